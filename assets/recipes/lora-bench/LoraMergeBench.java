import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.lora.LoraMerge;
import dev.sd3studio.engine.lora.LoraSelection;
import dev.sd3studio.engine.lora.MergedWeights;
import dev.sd3studio.engine.lora.OnnxWeights;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OrtRuntime;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * Measures the LoRA merge on a transformer export (or on {@code synth DIR LAYERS WIDTH}, a graph of just the
 * attention projections at full size): writes a random rank-R LoRA (diffusers keys) on every
 * attention projection the graph has, then times select + merge and the session creation, and reads the
 * process RSS. Run base and lora in separate processes to compare memory:
 *   java -cp "$(cat cp.txt):engine/target/classes" assets/recipes/lora-bench/LoraMergeBench.java DIR/transformer/model.onnx base|lora [RANK] [OUT.safetensors]
 */
public class LoraMergeBench {
    private static final Pattern ATTENTION = Pattern.compile(
            ".*transformer_blocks\\.\\d+\\.attn2?\\.(to_q|to_k|to_v|to_out\\.0|add_q_proj|add_k_proj|add_v_proj|to_add_out)");

    public static void main(String[] args) throws Exception {
        if (args[0].equals("synth")) {
            synth(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            return;
        }
        Path model = Path.of(args[0]);
        String mode = args[1];
        int rank = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        Path loraFile = Path.of(args.length > 3 ? args[3] : "/tmp/lora-bench-rank" + rank + ".safetensors");
        long t0 = System.nanoTime();
        OnnxWeights graph = OnnxWeights.read(model);
        long tIndex = System.nanoTime() - t0;
        List<OnnxWeights.LinearWeight> targets = graph.linears().stream()
                .filter(l -> l.modulePath() != null && ATTENTION.matcher(l.modulePath()).matches()).toList();
        if (!Files.exists(loraFile)) {
            writeLora(loraFile, targets, rank);
        }
        OrtRuntime runtime = new OrtRuntime(Device.CPU, 2);
        long rssBefore = rss("VmRSS");
        if (mode.equals("base")) {
            long t1 = System.nanoTime();
            try (OnnxModel m = OnnxModel.open(runtime, "transformer", model)) {
                double open = (System.nanoTime() - t1) / 1e9;
                long rssOpen = rss("VmRSS");
                runOnce(m);
                System.out.printf("base: open %.1f s, RSS before %d MB, after open %d MB, after one run %d MB, peak %d MB%n",
                        open, rssBefore >> 10, rssOpen >> 10, rss("VmRSS") >> 10, rss("VmHWM") >> 10);
            }
            return;
        }
        long t1 = System.nanoTime();
        LoraSelection s = LoraSelection.select(List.of(new LoraSpec(loraFile, 1.0)),
                c -> c == Component.TRANSFORMER ? Optional.of(graph) : Optional.empty());
        long tSelect = System.nanoTime() - t1;
        long t2 = System.nanoTime();
        long cpu0 = cpuNanos();
        MergedWeights merged = LoraMerge.merge(s.plan(Component.TRANSFORMER).contributions());
        long tMerge = System.nanoTime() - t2;
        long cpuMerge = cpuNanos() - cpu0;
        long bytes = merged.bytes();
        long rssMerged = rss("VmRSS");
        long t3 = System.nanoTime();
        try (OnnxModel m = OnnxModel.open(runtime, "transformer", model, merged)) {
            double open = (System.nanoTime() - t3) / 1e9;
            long rssOpen = rss("VmRSS");
            runOnce(m);
            System.out.printf("lora: %d projections, rank %d, LoRA file %d MB; index %.2f s, select %.2f s, merge %.1f s,"
                            + " (process CPU %.1f s), merged tensors %d MB; open with merged weights %.1f s; RSS before %d MB, after merge %d MB,"
                            + " after open %d MB, after one run %d MB, peak %d MB%n",
                    targets.size(), rank, Files.size(loraFile) >> 20, tIndex / 1e9, tSelect / 1e9, tMerge / 1e9,
                    cpuMerge / 1e9, bytes >> 20, open, rssBefore >> 10, rssMerged >> 10,
                    rssOpen >> 10, rss("VmRSS") >> 10, rss("VmHWM") >> 10);
        }
        s.close();
    }

    /**
     * A transformer-shaped graph with only the attention projections of an SD3 MMDiT: {@code layers} blocks
     * of to_q/k/v, to_out.0, add_q/k/v_proj, to_add_out (the last block without to_add_out, as SD3), each a
     * MatMul named as Optimum names it, weights (width × width, random) in external data. Usage:
     * {@code synth DIR LAYERS WIDTH}.
     */
    private static void synth(Path dir, int layers, int width) throws Exception {
        Files.createDirectories(dir);
        String[] projections = {"to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out"};
        ByteArrayOutputStream graph = new ByteArrayOutputStream();
        Random random = new Random(1);
        long offset = 0;
        int n = 0;
        byte[] weight = randomFloats(random, width * width, 0.02);   // the values do not change the timing
        try (var data = new java.io.BufferedOutputStream(Files.newOutputStream(dir.resolve("model.onnx_data")), 1 << 20)) {
            for (int b = 0; b < layers; b++) {
                for (String p : projections) {
                    if (b == layers - 1 && p.equals("to_add_out")) {
                        continue;
                    }
                    String w = "onnx::MatMul_" + (1000 + n);
                    String y = "y" + n;
                    String node = "/transformer_blocks." + b + "/attn/" + p + "/MatMul";
                    graph.writeBytes(field(1, cat(field(1, str("x")), field(1, str(w)), field(2, str(y)),
                            field(3, str(node)), field(4, str("MatMul")))));
                    long length = (long) width * width * 4;
                    graph.writeBytes(field(5, cat(varint(1, width), varint(1, width), varint(2, 1), field(8, str(w)),
                            field(13, cat(field(1, str("location")), field(2, str("model.onnx_data")))),
                            field(13, cat(field(1, str("offset")), field(2, str(Long.toString(offset))))),
                            field(13, cat(field(1, str("length")), field(2, str(Long.toString(length))))),
                            varint(14, 1))));
                    graph.writeBytes(field(12, valueInfo(y, width)));
                    data.write(weight);
                    offset += length;
                    n++;
                }
            }
        }
        graph.writeBytes(field(11, valueInfo("x", width)));
        byte[] opset = cat(field(1, str("")), varint(2, 14));
        byte[] model = cat(varint(1, 8), field(2, str("lora-bench")), field(7, graph.toByteArray()), field(8, opset));
        Files.write(dir.resolve("model.onnx"), model);
        System.out.printf("wrote %s: %d projections %dx%d, %d MB of weights%n", dir, n, width, width, offset >> 20);
    }

    private static byte[] valueInfo(String name, int width) {
        byte[] shape = cat(field(1, varint(1, 1)), field(1, varint(1, width)));
        return cat(field(1, str(name)), field(2, field(1, cat(varint(1, 1), field(2, shape)))));
    }

    private static byte[] str(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] field(int number, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeVarint(out, (long) number << 3 | 2);
        writeVarint(out, body.length);
        out.writeBytes(body);
        return out.toByteArray();
    }

    private static byte[] varint(int number, long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeVarint(out, (long) number << 3);
        writeVarint(out, value);
        return out.toByteArray();
    }

    private static void writeVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** One inference with zeros, so that every weight page is touched (mapped external data counts then). */
    /** One run on zeros, for graphs with a single input (the synthetic one); a real transformer is timed by {@code bench}. */
    private static void runOnce(OnnxModel m) throws Exception {
        if (m.inputs().size() != 1) {
            return;
        }
        var in = m.inputs().keySet().iterator().next();
        long[] shape = m.inputs().get(in).getShape().clone();
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shape[i] < 0 ? 1 : shape[i];
        }
        var x = new dev.sd3studio.engine.api.FloatTensor(shape,
                new float[(int) dev.sd3studio.engine.api.FloatTensor.elementCount(shape)]);
        m.run(java.util.Map.of(in, x), java.util.Map.of(), List.copyOf(m.outputs().keySet()),
                dev.sd3studio.engine.api.CancelToken.none());
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long rss(String field) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));   // kB
            }
        }
        return -1;
    }

    private static void writeLora(Path file, List<OnnxWeights.LinearWeight> targets, int rank) throws Exception {
        Random random = new Random(64);
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (var t : targets) {
            String key = "transformer." + t.modulePath().substring(t.modulePath().indexOf("transformer_blocks"));
            long a = (long) rank * t.inFeatures() * 4;
            long b = t.outFeatures() * rank * 4;
            header.append(String.format("\"%s.lora_A.weight\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%d,%d]},",
                    key, rank, t.inFeatures(), offset, offset + a));
            offset += a;
            header.append(String.format("\"%s.lora_B.weight\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%d,%d]},",
                    key, t.outFeatures(), rank, offset, offset + b));
            offset += b;
        }
        header.setCharAt(header.length() - 1, '}');
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        try (var out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            out.write(h);
            for (var t : targets) {
                out.write(randomFloats(random, rank * (int) t.inFeatures(), 1 / Math.sqrt(t.inFeatures())));
                out.write(randomFloats(random, (int) t.outFeatures() * rank, 0.01));
            }
        }
    }

    private static byte[] randomFloats(Random r, int n, double std) {
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat((float) (r.nextGaussian() * std));
        }
        return b.array();
    }
}
