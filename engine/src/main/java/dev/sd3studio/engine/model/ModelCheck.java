package dev.sd3studio.engine.model;

import ai.onnxruntime.TensorInfo;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OrtRuntime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Inspects a model folder part by part without generating: what is found, missing or unreadable,
 * in which format, how large, with which inputs and outputs. What {@code check-model} prints and
 * what the studio shows for a folder that is not a complete model.
 */
public final class ModelCheck {
    public enum Status { FOUND, MISSING, UNREADABLE }

    /** One component's report. */
    public record Part(String name, String description, boolean required, Status status, String format,
                       long bytes, List<String> inputs, List<String> outputs, String problem) {
    }

    /** The whole folder's report; {@code usable} when every required part is found. */
    public record Report(Path root, String layout, List<Part> parts, List<String> notes) {
        public boolean usable() {
            return parts.stream().noneMatch(p -> p.required() && p.status() != Status.FOUND);
        }

        public List<String> missingRequired() {
            return parts.stream().filter(p -> p.required() && p.status() != Status.FOUND)
                    .map(p -> p.name() + " (" + p.status().name().toLowerCase() + ")").toList();
        }
    }

    private ModelCheck() {
    }

    public static Report check(Path root) throws EngineException {
        return check(root, PartCheck.NONE);
    }

    /**
     * Each part found, missing or unreadable; with {@code deep} also each part's interface, its
     * config values and its tokenizer, as generation would open them.
     */
    public static Report check(Path root, PartCheck deep) throws EngineException {
        ModelFolder folder = ModelFolder.detect(root);
        OrtRuntime runtime = new OrtRuntime(Device.CPU, 1);
        List<Part> parts = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Component c : Component.values()) {
            parts.add(checkComponent(folder, c, runtime, notes, deep));
        }
        boolean t5 = folder.modelFile(Component.TEXT_ENCODER_3).isPresent();
        for (int i = 1; i <= 3; i++) {
            Path dir = folder.tokenizerDir(i);
            String name = dir.getFileName().toString();
            boolean json = Files.isRegularFile(dir.resolve("tokenizer.json"));
            boolean bpe = Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt"));
            boolean found = json || (i < 3 && bpe);
            String label = i == 3 ? "T5 tokenizer" : i == 1 ? "CLIP-L tokenizer" : "CLIP-G tokenizer";
            String problem = found ? null : "needs tokenizer.json" + (i < 3 ? " or vocab.json + merges.txt" : "");
            if (found) {
                try {
                    deep.tokenizer(label, dir);
                } catch (EngineException e) {
                    problem = e.getMessage();
                }
            }
            // the T5 tokenizer is needed exactly when the T5 encoder is there
            parts.add(new Part(name, label, i < 3 || t5, !found ? Status.MISSING : problem == null ? Status.FOUND
                    : Status.UNREADABLE, json ? "tokenizer.json" : bpe ? "vocab.json + merges.txt" : "-", size(dir),
                    List.of(), List.of(), problem));
        }
        parts.add(configs(folder));
        boolean scheduler = Files.isRegularFile(folder.schedulerConfig());
        if (!scheduler) {
            notes.add("no scheduler/scheduler_config.json: SD3's defaults (shift 3.0) are used.");
        }
        return new Report(folder.root(), folder.layout().name().toLowerCase(), parts, notes);
    }

    /** The JSON configs generation reads: a value it cannot use makes the folder unusable. */
    private static Part configs(ModelFolder folder) {
        String problem = null;
        try {
            TransformerConfig.read(folder.configOf(Component.TRANSFORMER));
            VaeConfig.read(folder.configOf(Component.VAE_DECODER));
            SchedulerConfig.read(folder.schedulerConfig());
        } catch (EngineException e) {
            problem = e.getMessage();
        }
        return new Part("configs", "config.json files", true, problem == null ? Status.FOUND : Status.UNREADABLE,
                "json", 0, List.of(), List.of(), problem);
    }

    private static Part checkComponent(ModelFolder folder, Component c, OrtRuntime runtime, List<String> notes,
                                       PartCheck deep) {
        var file = folder.modelFile(c);
        if (file.isEmpty()) {
            return new Part(c.folder(), c.description(), c.required(), Status.MISSING, "-", 0, List.of(), List.of(),
                    "no " + c.folder() + "/" + ModelFolder.MODEL_FILE);
        }
        Path dir = file.get().getParent();
        long bytes = size(dir);
        try (OnnxModel model = OnnxModel.open(runtime, c.folder(), file.get())) {
            List<String> in = model.inputs().entrySet().stream().map(e -> OnnxModel.describe(e.getKey(), e.getValue())).toList();
            List<String> out = model.outputs().entrySet().stream()
                    .filter(e -> !e.getKey().startsWith("hidden_states.") || isPenultimateOrLast(model, e.getKey()))
                    .map(e -> OnnxModel.describe(e.getKey(), e.getValue())).toList();
            String format = format(model, dir);
            try {
                deep.component(c, model);
            } catch (EngineException e) {
                return new Part(c.folder(), c.description(), c.required(), Status.UNREADABLE, format, bytes, in, out,
                        e.getMessage());
            }
            if ((c == Component.TEXT_ENCODER || c == Component.TEXT_ENCODER_2)
                    && model.outputs().keySet().stream().noneMatch(n -> n.startsWith("hidden_states."))) {
                notes.add(c.folder() + " exports no per-layer hidden states: last_hidden_state is used instead of"
                        + " the penultimate layer, so images will differ from the reference.");
            }
            return new Part(c.folder(), c.description(), c.required(), Status.FOUND, format, bytes, in, out, null);
        } catch (EngineException e) {
            return new Part(c.folder(), c.description(), c.required(), Status.UNREADABLE, "-", bytes, List.of(),
                    List.of(), e.getMessage());
        }
    }

    private static boolean isPenultimateOrLast(OnnxModel model, String name) {
        long count = model.outputs().keySet().stream().filter(n -> n.startsWith("hidden_states.")).count();
        return name.equals("hidden_states." + (count - 2)) || name.equals("hidden_states." + (count - 1));
    }

    private static String format(OnnxModel model, Path dir) {
        boolean half = model.inputs().values().stream().anyMatch(t -> t.type == ai.onnxruntime.OnnxJavaType.FLOAT16)
                || model.outputs().values().stream().anyMatch(t -> t.type == ai.onnxruntime.OnnxJavaType.FLOAT16);
        boolean external = Files.isRegularFile(dir.resolve("model.onnx_data")) || Files.isRegularFile(dir.resolve("model.onnx.data"));
        return "onnx " + (half ? "fp16" : "fp32") + (external ? " + external data" : "");
    }

    private static long size(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            return 0;
        }
    }

    static String shape(TensorInfo t) {
        return java.util.Arrays.toString(t.getShape());
    }
}
