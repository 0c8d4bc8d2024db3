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
 * Measures the LoRA merge on a transformer export: writes a random rank-R LoRA (diffusers keys) on every
 * attention projection the graph has, then times select + merge and the session creation, and reads the
 * process RSS. Run base and lora in separate processes to compare memory:
 *   java -cp "$(cat cp.txt):engine/target/classes" assets/recipes/lora-bench/LoraMergeBench.java DIR/transformer/model.onnx base|lora [RANK] [OUT.safetensors]
 */
public class LoraMergeBench {
    private static final Pattern ATTENTION = Pattern.compile(
            ".*transformer_blocks\\.\\d+\\.attn2?\\.(to_q|to_k|to_v|to_out\\.0|add_q_proj|add_k_proj|add_v_proj|to_add_out)");

    public static void main(String[] args) throws Exception {
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
                System.out.printf("base: open %.1f s, RSS %d MB (before %d MB), peak %d MB%n",
                        (System.nanoTime() - t1) / 1e9, rss("VmRSS") >> 10, rssBefore >> 10, rss("VmHWM") >> 10);
            }
            return;
        }
        long t1 = System.nanoTime();
        LoraSelection s = LoraSelection.select(List.of(new LoraSpec(loraFile, 1.0)),
                c -> c == Component.TRANSFORMER ? Optional.of(graph) : Optional.empty());
        long tSelect = System.nanoTime() - t1;
        long t2 = System.nanoTime();
        MergedWeights merged = LoraMerge.merge(s.plan(Component.TRANSFORMER).contributions());
        long tMerge = System.nanoTime() - t2;
        long bytes = merged.bytes();
        long rssMerged = rss("VmRSS");
        long t3 = System.nanoTime();
        try (OnnxModel m = OnnxModel.open(runtime, "transformer", model, merged)) {
            System.out.printf("lora: %d projections, rank %d, LoRA file %d MB; index %.2f s, select %.2f s, merge %.1f s,"
                            + " merged tensors %d MB; open with merged weights %.1f s; RSS before %d MB, after merge %d MB,"
                            + " after open %d MB, peak %d MB%n",
                    targets.size(), rank, Files.size(loraFile) >> 20, tIndex / 1e9, tSelect / 1e9, tMerge / 1e9,
                    bytes >> 20, (System.nanoTime() - t3) / 1e9, rssBefore >> 10, rssMerged >> 10,
                    rss("VmRSS") >> 10, rss("VmHWM") >> 10);
        }
        s.close();
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
