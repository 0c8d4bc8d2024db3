package dev.sd3studio.engine.format;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes safetensors files at test time: well-formed ones from tensors, and damaged ones from a raw header. */
public final class TestSafetensors {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestSafetensors() {
    }

    /** One tensor's stored bytes under any dtype name. */
    public record Tensor(String name, String dtype, long[] shape, byte[] data) {
        public static Tensor zeros(String name, String dtype, int elementBytes, long... shape) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return new Tensor(name, dtype, shape, new byte[(int) (n * elementBytes)]);
        }

        public static Tensor f32(String name, float[] values, long... shape) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                b.putFloat(v);
            }
            return new Tensor(name, "F32", shape, b.array());
        }

        public static Tensor f16(String name, float[] values, long... shape) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                b.putShort(Float.floatToFloat16(v));
            }
            return new Tensor(name, "F16", shape, b.array());
        }
    }

    /** A well-formed file holding {@code tensors} back to back, after {@code padding} spaces of header. */
    public static Path write(Path file, List<Tensor> tensors, int padding) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Tensor t : tensors) {
            ObjectNode n = header.putObject(t.name());
            n.put("dtype", t.dtype());
            var shape = n.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            n.putArray("data_offsets").add(data.size()).add(data.size() + t.data().length);
            data.writeBytes(t.data());
        }
        return writeRaw(file, JSON.writeValueAsString(header) + " ".repeat(padding), data.toByteArray());
    }

    public static Path write(Path file, List<Tensor> tensors) throws IOException {
        return write(file, tensors, 0);
    }

    /** A file with exactly this header text and data section: for damaged headers. */
    public static Path writeRaw(Path file, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.write(file, b.array());
    }
}
