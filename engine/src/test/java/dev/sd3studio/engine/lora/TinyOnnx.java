package dev.sd3studio.engine.lora;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Minimal ONNX graphs written at test time (protobuf field numbers from onnx.proto). */
final class TinyOnnx {
    private static final int FLOAT = 1;

    private TinyOnnx() {
    }

    /**
     * {@code y = x @ W}: input {@code x} [1, in], a MatMul named {@code node} whose weight (in × out) is
     * stored in {@code model.onnx.data} when {@code external}, else inline.
     */
    static Path linear(Path dir, String node, float[] w, int in, int out, boolean external) throws IOException {
        return linear(dir, node, "onnx::MatMul_7", w, in, out, external);
    }

    static Path linear(Path dir, String node, String weightName, float[] w, int in, int out, boolean external)
            throws IOException {
        byte[] raw = floats(w);
        if (external) {
            Files.createDirectories(dir);
            Files.write(dir.resolve("model.onnx.data"), concat(new byte[16], raw));   // data at offset 16
            return linearAt(dir, node, weightName, in, out, "model.onnx.data", 16);
        }
        byte[] weight = concat(varintField(1, in), varintField(1, out), varintField(2, FLOAT), field(8, str(weightName)),
                field(9, raw));
        return write(dir.resolve("model.onnx"), linearGraph(node, weightName, weight, in, out));
    }

    /**
     * The same graph with its weight stored as external data at {@code location} from {@code offset} on,
     * written as given (the data file is the caller's).
     */
    static Path linearAt(Path dir, String node, String weightName, int in, int out, String location, long offset)
            throws IOException {
        byte[] weight = concat(varintField(1, in), varintField(1, out), varintField(2, FLOAT), field(8, str(weightName)),
                field(13, concat(field(1, str("location")), field(2, str(location)))),
                field(13, concat(field(1, str("offset")), field(2, str(Long.toString(offset))))),
                field(13, concat(field(1, str("length")), field(2, str(Integer.toString(in * out * 4))))),
                varintField(14, 1));
        return write(dir.resolve("model.onnx"), linearGraph(node, weightName, weight, in, out));
    }

    private static byte[] linearGraph(String node, String weightName, byte[] weight, int in, int out) {
        return concat(
                node("MatMul", node, new String[] {"x", weightName}, "y"),
                field(2, str("tiny_linear")),
                field(5, weight),
                field(11, valueInfo("x", 1, in)),
                field(12, valueInfo("y", 1, out)));
    }

    /** A graph as an optimizer leaves it: an Attention node with packed QKV and a MatMul without a module name. */
    static Path fused(Path dir) throws IOException {
        byte[] graph = concat(
                node("Attention", "Attention_0", new String[] {"x", "qkv_weight"}, "a"),
                node("MatMul", "MatMul_12", new String[] {"a", "w_out"}, "y"),
                field(5, concat(varintField(1, 4), varintField(1, 12), varintField(2, FLOAT), field(8, str("qkv_weight")),
                        field(9, new byte[4 * 4 * 12]))),
                field(5, concat(varintField(1, 4), varintField(1, 4), varintField(2, FLOAT), field(8, str("w_out")),
                        field(9, new byte[4 * 4 * 4]))));
        return write(dir.resolve("model.onnx"), graph);
    }

    private static Path write(Path file, byte[] graph) throws IOException {
        byte[] opset = concat(field(1, str("")), varintField(2, 14));
        byte[] model = concat(varintField(1, 8), field(2, str("sd3studio-tests")), field(7, graph), field(8, opset));
        Files.createDirectories(file.getParent());
        return Files.write(file, model);
    }

    private static byte[] node(String op, String name, String[] inputs, String output) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String in : inputs) {
            out.writeBytes(field(1, str(in)));
        }
        out.writeBytes(field(2, str(output)));
        out.writeBytes(field(3, str(name)));
        out.writeBytes(field(4, str(op)));
        return field(1, out.toByteArray());
    }

    private static byte[] valueInfo(String name, long... dims) {
        ByteArrayOutputStream shape = new ByteArrayOutputStream();
        for (long d : dims) {
            shape.writeBytes(field(1, varintField(1, d)));
        }
        byte[] tensorType = concat(varintField(1, FLOAT), field(2, shape.toByteArray()));
        return concat(field(1, str(name)), field(2, field(1, tensorType)));
    }

    static byte[] floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    private static byte[] str(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] field(int number, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        varint(out, (long) number << 3 | 2);
        varint(out, body.length);
        out.writeBytes(body);
        return out.toByteArray();
    }

    private static byte[] varintField(int number, long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        varint(out, (long) number << 3);
        varint(out, value);
        return out.toByteArray();
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static byte[] concat(byte[]... parts) {
        return LoraTestFiles.concat(parts);
    }
}
