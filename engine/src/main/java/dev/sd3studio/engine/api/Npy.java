package dev.sd3studio.engine.api;

import dev.sd3studio.engine.api.FloatTensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Reads and writes NumPy {@code .npy} files (and reads {@code .npz} archives): the exchange
 * format of the reference pipeline's goldens and of {@code --latents} / {@code --dump}.
 * Little-endian float32, float64, int64 and int32 arrays in C order are supported.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /** A parsed array: its shape and its values as doubles or longs depending on the dtype. */
    public record NpyArray(long[] shape, String dtype, ByteBuffer values) {
        public FloatTensor toFloatTensor() {
            int n = Math.toIntExact(FloatTensor.elementCount(shape));
            float[] out = new float[n];
            switch (dtype) {
                case "<f4" -> values.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
                case "<f8" -> {
                    var b = values.duplicate().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = (float) b.get(i);
                    }
                }
                default -> throw new IllegalArgumentException("expected a float array, found dtype " + dtype);
            }
            return new FloatTensor(shape, out);
        }

        public long[] toLongs() {
            int n = Math.toIntExact(FloatTensor.elementCount(shape));
            long[] out = new long[n];
            switch (dtype) {
                case "<i8" -> values.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
                case "<i4" -> {
                    var b = values.duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = b.get(i);
                    }
                }
                default -> throw new IllegalArgumentException("expected an integer array, found dtype " + dtype);
            }
            return out;
        }
    }

    public static NpyArray read(Path file) throws IOException {
        return parse(Files.readAllBytes(file), file.toString());
    }

    public static FloatTensor readFloat(Path file) throws IOException {
        return read(file).toFloatTensor();
    }

    /** All arrays of an {@code .npz} archive (uncompressed or deflated), by name without ".npy". */
    public static Map<String, NpyArray> readArchive(Path file) throws IOException {
        Map<String, NpyArray> out = new HashMap<>();
        try (InputStream in = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                String name = e.getName().endsWith(".npy")
                        ? e.getName().substring(0, e.getName().length() - 4) : e.getName();
                out.put(name, parse(zip.readAllBytes(), file + ":" + e.getName()));
            }
        }
        return out;
    }

    static NpyArray parse(byte[] bytes, String source) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes.length < 10 || bytes[i] != MAGIC[i]) {
                throw new IOException(source + " is not a NumPy .npy file");
            }
        }
        int major = bytes[6];
        int headerLen;
        int offset;
        if (major == 1) {
            headerLen = Short.toUnsignedInt(buf.getShort(8));
            offset = 10;
        } else {
            headerLen = buf.getInt(8);
            offset = 12;
        }
        if (offset + headerLen > bytes.length) {
            throw new IOException(source + " has a truncated header");
        }
        String header = new String(bytes, offset, headerLen, StandardCharsets.ISO_8859_1);
        String dtype = group(DESCR, header, source, "dtype");
        if ("True".equals(group(FORTRAN, header, source, "fortran_order"))) {
            throw new IOException(source + " is in Fortran order; save it with C order");
        }
        String dims = group(SHAPE, header, source, "shape").trim();
        long[] shape = dims.isEmpty() ? new long[0]
                : java.util.Arrays.stream(dims.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                        .mapToLong(Long::parseLong).toArray();
        int width = switch (dtype) {
            case "<f4", "<i4" -> 4;
            case "<f8", "<i8" -> 8;
            default -> throw new IOException(source + " has dtype " + dtype
                    + "; only little-endian float32/float64/int32/int64 are supported");
        };
        long expected = FloatTensor.elementCount(shape) * width;
        int dataStart = offset + headerLen;
        if (bytes.length - dataStart < expected) {
            throw new IOException(source + " is truncated: expected " + expected + " data bytes, found "
                    + (bytes.length - dataStart));
        }
        ByteBuffer values = ByteBuffer.wrap(bytes, dataStart, (int) expected).slice().order(ByteOrder.LITTLE_ENDIAN);
        return new NpyArray(shape, dtype, values);
    }

    private static String group(Pattern p, String header, String source, String what) throws IOException {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IOException(source + " has no " + what + " in its header");
        }
        return m.group(1);
    }

    public static void writeFloat(Path file, FloatTensor t) throws IOException {
        AtomicFiles.write(file, encodeFloat(t));
    }

    /** The bytes of a float32 {@code .npy} file, for callers that stage several outputs together. */
    public static byte[] encodeFloat(FloatTensor t) {
        ByteBuffer body = ByteBuffer.allocate(t.data().length * 4).order(ByteOrder.LITTLE_ENDIAN);
        body.asFloatBuffer().put(t.data());
        return encode("<f4", t.shape(), body.array());
    }

    public static void writeLong(Path file, long[] shape, long[] values) throws IOException {
        ByteBuffer body = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        body.asLongBuffer().put(values);
        AtomicFiles.write(file, encode("<i8", shape, body.array()));
    }

    private static byte[] encode(String dtype, long[] shape, byte[] body) {
        StringBuilder dims = new StringBuilder();
        for (long d : shape) {
            dims.append(d).append(", ");
        }
        if (shape.length > 1) {
            dims.setLength(dims.length() - 2);
        }
        String header = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        int total = MAGIC.length + 4 + header.length() + 1;
        int pad = (64 - total % 64) % 64;
        header = header + " ".repeat(pad) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + header.length() + 10);
        out.writeBytes(MAGIC);
        out.write(1);
        out.write(0);
        out.write(header.length() & 0xff);
        out.write((header.length() >> 8) & 0xff);
        out.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(body);
        return out.toByteArray();
    }
}
