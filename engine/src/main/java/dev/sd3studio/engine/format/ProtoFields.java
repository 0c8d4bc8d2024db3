package dev.sd3studio.engine.format;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The one protobuf wire reader of the engine: a message as its list of fields, enough to read an ONNX
 * model (its signature, its weights' places) or edit its graph without the schema. Fields an edit does
 * not touch are written back byte for byte, whatever they hold. Bodies are views of the parsed buffer
 * (a memory-mapped model file is not copied), each with its offset in that file.
 * <p>
 * Every length is checked against the enclosing message, which lies inside the buffer, before anything
 * is sliced or allocated: a truncated, corrupt or lying file fails with an {@link IllegalArgumentException}
 * instead of reading past its end or allocating what a length field claims.
 */
public final class ProtoFields {
    public static final int VARINT = 0;
    public static final int FIXED64 = 1;
    public static final int LENGTH = 2;
    public static final int FIXED32 = 5;
    private static final long MAX_FIELD_NUMBER = (1 << 29) - 1;

    /**
     * One field: a varint's value in {@code value}, the body of a length-delimited field or the
     * little-endian bytes of a fixed-width one in {@code body}, which starts {@code at} bytes into the
     * outermost buffer parsed.
     */
    public record Field(int number, int wireType, long value, ByteBuffer body, long at) {
        public static Field varint(int number, long value) {
            return new Field(number, VARINT, value, null, -1);
        }

        public static Field message(int number, byte[] body) {
            return new Field(number, LENGTH, 0, ByteBuffer.wrap(body), -1);
        }

        public static Field string(int number, String text) {
            return message(number, text.getBytes(StandardCharsets.UTF_8));
        }

        public boolean is(int fieldNumber, int type) {
            return number == fieldNumber && wireType == type;
        }

        /** A copy of the body (for the small fields a graph edit reads). */
        public byte[] bytes() {
            byte[] b = new byte[body.remaining()];
            body.duplicate().get(b);
            return b;
        }

        public String text() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        /** This length-delimited field's body parsed as a message, offsets kept. */
        public List<Field> fields() {
            return parse(body, at);
        }
    }

    private ProtoFields() {
    }

    /**
     * {@code file} mapped read-only, valid while {@code arena} is open; empty when it is over 2 GB, which
     * no protobuf message can be.
     */
    public static Optional<ByteBuffer> map(Path file, Arena arena) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() > Integer.MAX_VALUE) {
                return Optional.empty();
            }
            return Optional.of(channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena).asByteBuffer());
        }
    }

    public static List<Field> parse(byte[] message) {
        return parse(ByteBuffer.wrap(message), 0);
    }

    /** The fields of {@code message} (its position to its limit), which starts {@code base} bytes into the file. */
    public static List<Field> parse(ByteBuffer message, long base) {
        ByteBuffer in = message.duplicate();
        int start = in.position();
        List<Field> fields = new ArrayList<>();
        while (in.hasRemaining()) {
            long tag = varint(in);
            int number = (int) (tag >>> 3);
            int type = (int) (tag & 7);
            if (number <= 0 || tag >>> 3 > MAX_FIELD_NUMBER) {
                throw new IllegalArgumentException("bad field number at byte " + (base + in.position() - start));
            }
            switch (type) {
                case VARINT -> fields.add(new Field(number, type, varint(in), null, -1));
                case FIXED64, FIXED32 -> {
                    long at = base + in.position() - start;
                    fields.add(new Field(number, type, 0, take(in, type == FIXED64 ? 8 : 4), at));
                }
                case LENGTH -> {
                    long length = varint(in);
                    if (length < 0 || length > in.remaining()) {
                        throw new IllegalArgumentException("field of " + length + " bytes overruns its message");
                    }
                    long at = base + in.position() - start;
                    fields.add(new Field(number, type, 0, take(in, (int) length), at));
                }
                default -> throw new IllegalArgumentException("unsupported wire type " + type);
            }
        }
        return fields;
    }

    public static byte[] write(List<Field> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Field f : fields) {
            writeVarint(out, (long) f.number() << 3 | f.wireType());
            switch (f.wireType()) {
                case VARINT -> writeVarint(out, f.value());
                case LENGTH -> {
                    writeVarint(out, f.body().remaining());
                    out.writeBytes(f.bytes());
                }
                default -> out.writeBytes(f.bytes());
            }
        }
        return out.toByteArray();
    }

    /** The first length-delimited field numbered {@code number} (a message, a string, bytes), or null. */
    public static Field first(List<Field> fields, int number) {
        for (Field f : fields) {
            if (f.is(number, LENGTH)) {
                return f;
            }
        }
        return null;
    }

    /** The first length-delimited field numbered {@code number}, as text, or null. */
    public static String firstString(List<Field> fields, int number) {
        Field f = first(fields, number);
        return f == null ? null : f.text();
    }

    /** The first varint field numbered {@code number}, or {@code absent}. */
    public static long firstVarint(List<Field> fields, int number, long absent) {
        for (Field f : fields) {
            if (f.is(number, VARINT)) {
                return f.value();
            }
        }
        return absent;
    }

    /** The values of a packed repeated varint field's body. */
    public static long[] packedVarints(ByteBuffer body) {
        ByteBuffer in = body.duplicate();
        int count = 0;
        for (int i = in.position(); i < in.limit(); i++) {
            if (in.get(i) >= 0) {
                count++; // each varint ends with the one byte whose top bit is clear
            }
        }
        long[] values = new long[count];
        for (int n = 0; n < count; n++) {
            values[n] = varint(in);
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException("truncated varint");
        }
        return values;
    }

    private static ByteBuffer take(ByteBuffer in, int n) {
        if (n > in.remaining()) {
            throw new IllegalArgumentException("truncated field");
        }
        ByteBuffer body = in.slice(in.position(), n);
        in.position(in.position() + n);
        return body;
    }

    private static long varint(ByteBuffer in) {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!in.hasRemaining()) {
                throw new IllegalArgumentException("truncated varint");
            }
            byte b = in.get();
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new IllegalArgumentException("varint too long");
    }

    private static void writeVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }
}
