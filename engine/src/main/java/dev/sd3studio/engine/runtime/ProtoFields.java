package dev.sd3studio.engine.runtime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A protobuf message as its list of fields, enough to edit an ONNX graph without its schema: the
 * fields an edit does not touch are written back byte for byte, whatever they hold. Every length is
 * checked against the enclosing message, so a truncated or corrupt file fails with an
 * {@link IllegalArgumentException} instead of reading past it.
 */
final class ProtoFields {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH = 2;
    static final int FIXED32 = 5;

    /**
     * One field: a varint's value in {@code value}, the body of a length-delimited field or the
     * little-endian bytes of a fixed-width one in {@code bytes}.
     */
    record Field(int number, int wireType, long value, byte[] bytes) {
        static Field varint(int number, long value) {
            return new Field(number, VARINT, value, null);
        }

        static Field message(int number, byte[] body) {
            return new Field(number, LENGTH, 0, body);
        }

        static Field string(int number, String text) {
            return message(number, text.getBytes(StandardCharsets.UTF_8));
        }

        boolean is(int fieldNumber, int type) {
            return number == fieldNumber && wireType == type;
        }

        String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    private ProtoFields() {
    }

    static List<Field> parse(byte[] message) {
        List<Field> fields = new ArrayList<>();
        int[] pos = {0};
        while (pos[0] < message.length) {
            long tag = varint(message, pos);
            int number = (int) (tag >>> 3);
            int type = (int) (tag & 7);
            if (number <= 0) {
                throw new IllegalArgumentException("bad field number at byte " + pos[0]);
            }
            switch (type) {
                case VARINT -> fields.add(new Field(number, type, varint(message, pos), null));
                case FIXED64 -> fields.add(new Field(number, type, 0, take(message, pos, 8)));
                case FIXED32 -> fields.add(new Field(number, type, 0, take(message, pos, 4)));
                case LENGTH -> {
                    long length = varint(message, pos);
                    if (length < 0 || length > message.length - pos[0]) {
                        throw new IllegalArgumentException("field of " + length + " bytes overruns its message");
                    }
                    fields.add(new Field(number, type, 0, take(message, pos, (int) length)));
                }
                default -> throw new IllegalArgumentException("unsupported wire type " + type + " at byte " + pos[0]);
            }
        }
        return fields;
    }

    static byte[] write(List<Field> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Field f : fields) {
            writeVarint(out, (long) f.number() << 3 | f.wireType());
            switch (f.wireType()) {
                case VARINT -> writeVarint(out, f.value());
                case LENGTH -> {
                    writeVarint(out, f.bytes().length);
                    out.writeBytes(f.bytes());
                }
                default -> out.writeBytes(f.bytes());
            }
        }
        return out.toByteArray();
    }

    /** The first length-delimited field numbered {@code number}, as text, or null. */
    static String firstString(List<Field> fields, int number) {
        for (Field f : fields) {
            if (f.is(number, LENGTH)) {
                return f.text();
            }
        }
        return null;
    }

    /** The first varint field numbered {@code number}, or {@code absent}. */
    static long firstVarint(List<Field> fields, int number, long absent) {
        for (Field f : fields) {
            if (f.is(number, VARINT)) {
                return f.value();
            }
        }
        return absent;
    }

    /** The values of a packed repeated varint field's body. */
    static long[] packedVarints(byte[] body) {
        long[] values = new long[body.length];
        int n = 0;
        int[] pos = {0};
        while (pos[0] < body.length) {
            values[n++] = varint(body, pos);
        }
        return java.util.Arrays.copyOf(values, n);
    }

    private static byte[] take(byte[] message, int[] pos, int n) {
        if (n > message.length - pos[0]) {
            throw new IllegalArgumentException("truncated field at byte " + pos[0]);
        }
        byte[] b = java.util.Arrays.copyOfRange(message, pos[0], pos[0] + n);
        pos[0] += n;
        return b;
    }

    private static long varint(byte[] message, int[] pos) {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos[0] >= message.length) {
                throw new IllegalArgumentException("truncated varint at byte " + pos[0]);
            }
            byte b = message[pos[0]++];
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new IllegalArgumentException("varint too long at byte " + pos[0]);
    }

    private static void writeVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }
}
