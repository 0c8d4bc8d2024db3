package dev.sd3studio.engine.runtime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes tiny ONNX graphs for tests at test time, so no model file is kept in the repository. A
 * minimal protobuf writer for the few ModelProto fields these graphs use (field numbers from
 * onnx.proto).
 */
public final class OnnxTestModels {
    private static final int FLOAT = 1;
    private static final int INT64 = 7;
    private static final int FLOAT16 = 10;

    private OnnxTestModels() {
    }

    /** Input {@code latent_sample} float16 [b, c, h, w]; output {@code sample} = 2·x + 1 in float16. */
    public static Path fp16Scale(Path dir) throws IOException {
        String[] dims = {"batch", "channels", "height", "width"};
        byte[] graph = concat(
                node("Mul", new String[] {"latent_sample", "two"}, "doubled", new byte[0]),
                node("Add", new String[] {"doubled", "one"}, "sample", new byte[0]),
                field(2, str("fp16_scale")),
                field(5, tensor("two", FLOAT16, new long[0], half(2f))),
                field(5, tensor("one", FLOAT16, new long[0], half(1f))),
                field(11, valueInfo("latent_sample", FLOAT16, dims)),
                field(12, valueInfo("sample", FLOAT16, dims)));
        return write(dir.resolve("fp16_scale.onnx"), graph);
    }

    /**
     * A CLIP-shaped encoder without per-layer hidden states, as exports made without
     * output_hidden_states: input {@code input_ids} int64 [B, S] (ids below 64); outputs
     * {@code text_embeds} [B, 4] (mean over tokens) and {@code last_hidden_state} [B, S, 4].
     */
    public static Path clipWithoutHiddenStates(Path dir) throws IOException {
        int vocab = 64;
        int width = 4;
        ByteBuffer table = ByteBuffer.allocate(vocab * width * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < vocab * width; i++) {
            table.putFloat((i % 7) / 7f);
        }
        byte[] reduceAttributes = concat(
                field(5, concat(field(1, str("axes")), varintField(8, 1), varintField(20, 7))),
                field(5, concat(field(1, str("keepdims")), varintField(3, 0), varintField(20, 2))));
        byte[] graph = concat(
                node("Gather", new String[] {"table", "input_ids"}, "last_hidden_state", new byte[0]),
                node("ReduceMean", new String[] {"last_hidden_state"}, "text_embeds", reduceAttributes),
                field(2, str("clip_without_hidden_states")),
                field(5, tensor("table", FLOAT, new long[] {vocab, width}, table.array())),
                field(11, valueInfo("input_ids", INT64, "batch_size", "sequence_length")),
                field(12, valueInfo("text_embeds", FLOAT, "batch_size", width)),
                field(12, valueInfo("last_hidden_state", FLOAT, "batch_size", "sequence_length", width)));
        return write(dir.resolve("clip_without_hidden_states.onnx"), graph);
    }

    /**
     * A VAE decoder with the SD3 interface whose every output value is {@code value}: input
     * {@code latent_sample} float [B, 16, h, w], output {@code sample} [B, 3, 8h, 8w] =
     * nearest-upsampled first three channels × 0 + value (so ±inf and NaN survive as themselves).
     */
    public static Path constantDecoder(Path file, float value) throws IOException {
        byte[] graph = concat(
                node("Slice", new String[] {"latent_sample", "starts", "ends", "axes"}, "rgb", new byte[0]),
                node("Resize", new String[] {"rgb", "", "scales"}, "big", new byte[0]),
                node("Mul", new String[] {"big", "zero"}, "zeros", new byte[0]),
                node("Add", new String[] {"zeros", "value"}, "sample", new byte[0]),
                field(2, str("constant_decoder")),
                field(5, tensor("starts", INT64, new long[] {1}, longs(0))),
                field(5, tensor("ends", INT64, new long[] {1}, longs(3))),
                field(5, tensor("axes", INT64, new long[] {1}, longs(1))),
                field(5, tensor("scales", FLOAT, new long[] {4}, floats(1, 1, 8, 8))),
                field(5, tensor("zero", FLOAT, new long[0], floats(0))),
                field(5, tensor("value", FLOAT, new long[0], floats(value))),
                field(11, valueInfo("latent_sample", FLOAT, "batch", "channels", "height", "width")),
                field(12, valueInfo("sample", FLOAT, "batch", 3, "out_height", "out_width")));
        return write(file, graph);
    }

    /**
     * A VAE encoder with the SD3 interface whose output is all {@code value}: input {@code sample}
     * [B, 3, H, W], output {@code latent_sample} [B, 16, H/8, W/8].
     */
    public static Path constantEncoder(Path file, float value) throws IOException {
        byte[] graph = concat(
                node("Resize", new String[] {"sample", "", "scales"}, "small", new byte[0]),
                node("Mul", new String[] {"small", "zero"}, "zeros", new byte[0]),
                node("Add", new String[] {"zeros", "value"}, "latent_sample", new byte[0]),
                field(2, str("constant_encoder")),
                field(5, tensor("scales", FLOAT, new long[] {4}, floats(1, 5.34f, 0.125f, 0.125f))),
                field(5, tensor("zero", FLOAT, new long[0], floats(0))),
                field(5, tensor("value", FLOAT, new long[0], floats(value))),
                field(11, valueInfo("sample", FLOAT, "batch", 3, "height", "width")),
                field(12, valueInfo("latent_sample", FLOAT, "batch", 16, "lh", "lw")));
        return write(file, graph);
    }

    /**
     * An MMDiT-shaped chain named as Optimum names the real one, for memory tests: input
     * {@code hidden_states} float [1, width]; {@code /pos_embed/Add} adds a bias, then each of {@code blocks}
     * blocks {@code /transformer_blocks.N/} adds {@code h·W_N} (W_N [width, width], inline, small values)
     * to its input; {@code /norm_out/Mul} halves the result into {@code out_hidden_states}. Written as a
     * stream with one weight buffer, so making it leaves no garbage of the weights' size on the Java heap.
     */
    public static Path blockChain(Path file, int blocks, int width) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        head.writeBytes(named("/pos_embed/Add", "Add", new String[] {"hidden_states", "bias"}, "h0"));
        for (int n = 0; n < blocks; n++) {
            String prefix = "/transformer_blocks." + n + "/";
            head.writeBytes(named(prefix + "MatMul", "MatMul", new String[] {"h" + n, "w" + n}, "m" + n));
            head.writeBytes(named(prefix + "Add", "Add", new String[] {"h" + n, "m" + n}, "h" + (n + 1)));
        }
        head.writeBytes(named("/norm_out/Mul", "Mul", new String[] {"h" + blocks, "half"}, "out_hidden_states"));
        head.writeBytes(field(2, str("block_chain")));
        head.writeBytes(field(5, tensor("bias", FLOAT, new long[] {width}, new byte[width * 4])));
        head.writeBytes(field(5, tensor("half", FLOAT, new long[0], floats(0.5f))));
        byte[] tail = concat(field(11, valueInfo("hidden_states", FLOAT, 1, width)),
                field(12, valueInfo("out_hidden_states", FLOAT, 1, width)));
        ByteBuffer weight = ByteBuffer.allocate(width * width * 4).order(ByteOrder.LITTLE_ENDIAN);
        byte[] raw = weight.array();
        // each weight: field 5 { dims, type, name, field 9 { raw } }, the raw bytes written from one buffer
        List<byte[]> weightHeads = new ArrayList<>();
        long graphLength = head.size() + tail.length;
        for (int n = 0; n < blocks; n++) {
            byte[] fields = concat(varintField(1, width), varintField(1, width), varintField(2, FLOAT),
                    field(8, str("w" + n)), lengthPrefix(9, raw.length));
            byte[] prefixed = concat(lengthPrefix(5, fields.length + raw.length), fields);
            weightHeads.add(prefixed);
            graphLength += prefixed.length + raw.length;
        }
        byte[] opset = concat(field(1, str("")), varintField(2, 14));
        Files.createDirectories(file.getParent());
        try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(file))) {
            out.write(concat(varintField(1, 8), field(2, str("sd3studio-tests")), lengthPrefix(7, graphLength)));
            out.write(head.toByteArray());
            for (int n = 0; n < blocks; n++) {
                // each block its own values: ORT would share identical weights between blocks
                weight.clear();
                for (int i = 0; i < width * width; i++) {
                    weight.putFloat(((i * 7 + n) % 13 - 6) * 1e-4f);
                }
                out.write(weightHeads.get(n));
                out.write(raw);
            }
            out.write(tail);
            out.write(field(8, opset));
        }
        return file;
    }

    /** The tag and length of a length-delimited field whose body follows. */
    private static byte[] lengthPrefix(int number, long length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        varint(out, (long) number << 3 | 2);
        varint(out, length);
        return out.toByteArray();
    }

    /** A node with its name (NodeProto.name 3), as exporters write them. */
    private static byte[] named(String name, String op, String[] inputs, String output) {
        return field(1, concat(nodeBody(op, inputs, output, new byte[0]), field(3, str(name))));
    }

    private static byte[] longs(long... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) {
            b.putLong(x);
        }
        return b.array();
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }

    /**
     * A decoder-shaped graph that is slow on purpose: input {@code latent_sample} float [n, n], output
     * {@code sample} = x multiplied by itself {@code links} times in a chain (about 2n³ flops a link).
     * Cancel tests need a run that is certainly still going when the cancel lands.
     */
    public static Path slowChain(Path dir, int n, int links) throws IOException {
        ByteArrayOutputStream nodes = new ByteArrayOutputStream();
        String previous = "latent_sample";
        for (int i = 0; i < links; i++) {
            String next = i == links - 1 ? "sample" : "h" + i;
            nodes.writeBytes(node("MatMul", new String[] {previous, previous}, next, new byte[0]));
            previous = next;
        }
        byte[] graph = concat(nodes.toByteArray(),
                field(2, str("slow_chain")),
                field(11, valueInfo("latent_sample", FLOAT, n, n)),
                field(12, valueInfo("sample", FLOAT, n, n)));
        return write(dir.resolve("slow_chain.onnx"), graph);
    }

    /**
     * {@link #fp16Scale}'s interface in float32 with its two constants stored as external data in
     * {@code model.onnx_data} beside {@code model.onnx} (the layout of exports above 2 GB).
     */
    public static Path externalScale(Path dir) throws IOException {
        String[] dims = {"batch", "channels", "height", "width"};
        Files.createDirectories(dir);
        ByteBuffer data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(2f).putFloat(1f);
        Files.write(dir.resolve("model.onnx_data"), data.array());
        byte[] graph = concat(
                node("Mul", new String[] {"latent_sample", "two"}, "doubled", new byte[0]),
                node("Add", new String[] {"doubled", "one"}, "sample", new byte[0]),
                field(2, str("external_scale")),
                field(5, externalTensor("two", 0)),
                field(5, externalTensor("one", 4)),
                field(11, valueInfo("latent_sample", FLOAT, dims)),
                field(12, valueInfo("sample", FLOAT, dims)));
        return write(dir.resolve("model.onnx"), graph);
    }

    /**
     * A pure fp16 graph as an fp16 export has it, weights in {@code model.onnx_data}: input
     * {@code input_ids} int64 [1, S] (ids below 16) → Gather from an fp16 [16, width] table →
     * {@code layers} × (MatMul with an fp16 [width, width] weight named {@code w<i>}, Tanh) → Mul by an
     * fp16 Constant 0.5 → Cast to fp16 → output {@code last_hidden_state} fp16 [1, S, width]. The
     * weights are small random-looking values from a fixed formula.
     */
    public static Path fp16Chain(Path dir, int layers, int width) throws IOException {
        return fp16Chain(dir, layers, width, false);
    }

    /** {@link #fp16Chain(Path, int, int)} with its weights inside {@code model.onnx} when {@code inline}. */
    public static Path fp16Chain(Path dir, int layers, int width, boolean inline) throws IOException {
        Files.createDirectories(dir);
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        ByteArrayOutputStream nodes = new ByteArrayOutputStream();
        ByteArrayOutputStream weights = new ByteArrayOutputStream();
        weights.writeBytes(field(5, half("table", new long[] {16, width}, data, inline)));
        nodes.writeBytes(node("Gather", new String[] {"table", "input_ids"}, "h0", new byte[0]));
        for (int i = 0; i < layers; i++) {
            weights.writeBytes(field(5, half("w" + i, new long[] {width, width}, data, inline)));
            nodes.writeBytes(node("MatMul", new String[] {"h" + i, "w" + i}, "m" + i, new byte[0]));
            nodes.writeBytes(node("Tanh", new String[] {"m" + i}, "h" + (i + 1), new byte[0]));
        }
        byte[] half = concat(field(1, str("value")), field(5, tensor("half", FLOAT16, new long[0], half(0.5f))),
                varintField(20, 4));
        nodes.writeBytes(field(1, concat(field(2, str("half")), field(4, str("Constant")), field(5, half))));
        nodes.writeBytes(node("Mul", new String[] {"h" + layers, "half"}, "scaled", new byte[0]));
        byte[] toHalf = field(5, concat(field(1, str("to")), varintField(3, FLOAT16), varintField(20, 2)));
        nodes.writeBytes(node("Cast", new String[] {"scaled"}, "last_hidden_state", toHalf));
        if (!inline) {
            Files.write(dir.resolve("model.onnx_data"), data.toByteArray());
        }
        byte[] graph = concat(nodes.toByteArray(), field(2, str("fp16_chain")), weights.toByteArray(),
                field(11, valueInfo("input_ids", INT64, 1, "sequence")),
                field(12, valueInfo("last_hidden_state", FLOAT16, 1, "sequence", width)),
                field(13, valueInfo("h0", FLOAT16, 1, "sequence", width)));
        return write(dir.resolve("model.onnx"), graph);
    }

    /**
     * An fp16 initializer, values from a fixed formula in [-0.5, 0.5): appended to {@code data} and
     * referenced there, or held in the tensor itself when {@code inline}.
     */
    private static byte[] half(String name, long[] dims, ByteArrayOutputStream data, boolean inline) {
        long count = 1;
        for (long d : dims) {
            count *= d;
        }
        int offset = data.size();
        for (long i = 0; i < count; i++) {
            float v = ((i * 7919 + name.hashCode()) % 1000) / 1000f - 0.5f;
            data.writeBytes(half(v));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long d : dims) {
            out.writeBytes(varintField(1, d));
        }
        out.writeBytes(varintField(2, FLOAT16));
        out.writeBytes(field(8, str(name)));
        if (inline) {
            out.writeBytes(field(9, java.util.Arrays.copyOfRange(data.toByteArray(), offset, data.size())));
            return out.toByteArray();
        }
        out.writeBytes(field(13, concat(field(1, str("location")), field(2, str("model.onnx_data")))));
        out.writeBytes(field(13, concat(field(1, str("offset")), field(2, str(Integer.toString(offset))))));
        out.writeBytes(field(13, concat(field(1, str("length")), field(2, str(Long.toString(count * 2))))));
        out.writeBytes(varintField(14, 1));
        return out.toByteArray();
    }

    private static byte[] externalTensor(String name, int offset) {
        return concat(varintField(2, FLOAT), field(8, str(name)),
                field(13, concat(field(1, str("location")), field(2, str("model.onnx_data")))),
                field(13, concat(field(1, str("offset")), field(2, str(Integer.toString(offset))))),
                field(13, concat(field(1, str("length")), field(2, str("4")))),
                varintField(14, 1));
    }

    private static Path write(Path file, byte[] graph) throws IOException {
        byte[] opset = concat(field(1, str("")), varintField(2, 14));
        byte[] model = concat(varintField(1, 8), field(2, str("sd3studio-tests")), field(7, graph), field(8, opset));
        Files.createDirectories(file.getParent());
        return Files.write(file, model);
    }

    private static byte[] node(String op, String[] inputs, String output, byte[] attributes) {
        return field(1, nodeBody(op, inputs, output, attributes));
    }

    private static byte[] nodeBody(String op, String[] inputs, String output, byte[] attributes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String in : inputs) {
            out.writeBytes(field(1, str(in)));
        }
        out.writeBytes(field(2, str(output)));
        out.writeBytes(field(4, str(op)));
        out.writeBytes(attributes);
        return out.toByteArray();
    }

    private static byte[] tensor(String name, int type, long[] dims, byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long d : dims) {
            out.writeBytes(varintField(1, d));
        }
        out.writeBytes(varintField(2, type));
        out.writeBytes(field(8, str(name)));
        out.writeBytes(field(9, raw));
        return out.toByteArray();
    }

    /** Dimensions are names (String) or sizes (Integer). */
    private static byte[] valueInfo(String name, int type, Object... dims) {
        ByteArrayOutputStream shape = new ByteArrayOutputStream();
        for (Object d : dims) {
            shape.writeBytes(field(1, d instanceof String s ? field(2, str(s)) : varintField(1, ((Number) d).longValue())));
        }
        byte[] tensorType = concat(varintField(1, type), field(2, shape.toByteArray()));
        return concat(field(1, str(name)), field(2, field(1, tensorType)));
    }

    private static byte[] half(float v) {
        short h = Float.floatToFloat16(v);
        return new byte[] {(byte) h, (byte) (h >> 8)};
    }

    private static byte[] str(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A length-delimited field. */
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
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
