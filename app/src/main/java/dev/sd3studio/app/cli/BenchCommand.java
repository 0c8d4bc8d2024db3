package dev.sd3studio.app.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.MemoryMode;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.Sd3Generator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sd3studio bench}: one generation, timed stage by stage; the last line is a JSON object.
 * Session creation ({@code load_ms}, per component) is kept apart from running: {@code encode_ms},
 * {@code step_ms} (median) and {@code decode_ms} exclude it, {@code run_ms} is the wall time without
 * it. {@code ort_run_ms} is the time inside ONNX Runtime's run calls (previews included, they run
 * on another thread), {@code outside_share} the share of the wall time spent neither there nor in
 * session creation. Run each memory mode in its own process: peak RSS is a per-process high-water mark.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time one generation stage by stage and print the numbers as JSON (last line).")
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;
    @Option(names = "--mode", paramLabel = "offload|resident", description = "memory mode (default: ${DEFAULT-VALUE})")
    String mode = "resident";
    @Option(names = "--no-t5", description = "drop the T5 encoder")
    boolean noT5;
    @Option(names = "--weights", paramLabel = "stored|int8|int4", description = "linear layers of the transformer and"
            + " T5 as stored or quantized (default: ${DEFAULT-VALUE})")
    String weights = "stored";
    @Option(names = "--steps", paramLabel = "N")
    int steps = GenerationRequest.DEFAULT_STEPS;
    @Option(names = "--width", paramLabel = "N")
    Integer width;
    @Option(names = "--height", paramLabel = "N")
    Integer height;
    @Option(names = "--prompt", paramLabel = "TEXT")
    String prompt = "a large red circle in the center on a blue background";
    @Option(names = "--preview-model", paramLabel = "DIR", description = "TAESD3 folder (default: the model's taesd3/)")
    Path previewModel;
    @Option(names = "--preview-every", paramLabel = "N", description = "preview every N steps, 0 for none (default: ${DEFAULT-VALUE})")
    int previewEvery = 1;
    @Option(names = "--guidance", paramLabel = "F", description = "guidance scale; >1 enables CFG (default: ${DEFAULT-VALUE})")
    double guidance = GenerationRequest.DEFAULT_GUIDANCE;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        MemoryMode memory = switch (mode.toLowerCase()) {
            case "offload" -> MemoryMode.OFFLOAD;
            case "resident" -> MemoryMode.RESIDENT;
            default -> throw new CliException("--mode must be offload or resident, not " + mode, Cli.EXIT_USAGE);
        };
        EngineOptions options = EngineOptions.defaults().withMemoryMode(memory).withPreviewModel(previewModel)
                .withWeights(GenerateCommand.weightPrecision(weights))
                .withCheckpoint(model.checkpointFiles());
        GenerationRequest request = GenerationRequest.builder(prompt).optSteps(steps).optSize(width, height)
                .optDropT5(noT5).optSeed(0L).optPreviewEvery(previewEvery).optGuidance(guidance).build();
        GenerationResult result;
        String previewMethod;
        try (Sd3Generator engine = Sd3Engine.open(model.resolve(), options)) {
            previewMethod = engine.info().previewMethod();
            result = engine.generate(request, ProgressListener.NONE, CancelToken.none());
        }
        ObjectNode json = summary(result.timingsMs());
        json.put("mode", memory.name().toLowerCase());
        json.put("steps", result.resolved().steps());
        json.put("width", result.resolved().width());
        json.put("height", result.resolved().height());
        json.put("drop_t5", noT5);
        json.put("weights", options.weights().label());
        json.put("preview_method", previewMethod);
        json.put("peak_rss_mb", peakRssMb());
        spec.commandLine().getOut().println(new ObjectMapper().writeValueAsString(json));
        return 0;
    }

    static ObjectNode summary(Map<String, Long> t) {
        ObjectNode json = new ObjectMapper().createObjectNode();
        ObjectNode load = json.putObject("load_ms");
        List<Long> steps = new ArrayList<>();
        List<Long> previews = new ArrayList<>();
        long loadTotal = 0;
        long textEncoderLoads = 0;
        for (Map.Entry<String, Long> e : t.entrySet()) {
            String k = e.getKey();
            long v = e.getValue();
            if (k.startsWith("load_")) {
                load.put(k.substring(5), v);
                loadTotal += v;
                if (k.startsWith("load_text_encoder")) {
                    textEncoderLoads += v; // text encoders are created inside the encode stage
                }
            } else if (k.startsWith("step_")) {
                steps.add(v);
            } else if (k.startsWith("preview_")) {
                previews.add(v);
            }
        }
        long total = t.getOrDefault("total", 0L);
        long ort = t.getOrDefault("ort_run", 0L);
        json.put("load_total_ms", loadTotal);
        json.put("encode_ms", Math.max(0, t.getOrDefault("encode", 0L) - textEncoderLoads));
        json.put("step_ms", median(steps));
        json.put("decode_ms", t.getOrDefault("decode", 0L));
        json.put("preview_ms", median(previews));
        json.put("previews", previews.size());
        json.put("ort_run_ms", ort);
        json.put("run_ms", total - loadTotal);
        json.put("total_ms", total);
        json.put("load_share", share(loadTotal, total));
        json.put("outside_share", share(total - ort - loadTotal, total));
        return json;
    }

    private static double share(long part, long whole) {
        return whole <= 0 ? 0 : Math.round(1000.0 * part / whole) / 1000.0;
    }

    static long median(List<Long> values) {
        if (values.isEmpty()) {
            return 0;
        }
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    /** The process's resident-set high-water mark (Linux VmHWM), or -1 where unknown. */
    static long peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return -1;
    }
}
