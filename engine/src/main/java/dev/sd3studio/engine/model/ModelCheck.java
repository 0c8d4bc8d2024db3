package dev.sd3studio.engine.model;

import ai.onnxruntime.TensorInfo;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.ModelReport;
import dev.sd3studio.engine.api.ModelReport.Part;
import dev.sd3studio.engine.api.ModelReport.Status;
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
    private ModelCheck() {
    }

    /**
     * The deep probe ({@code check-model}): opens every component as a real ONNX Runtime session, so
     * it also proves that ORT can load each file. Slow and memory-hungry at full size.
     */
    public static ModelReport check(Path root) throws EngineException {
        return check(root, PartCheck.NONE);
    }

    /**
     * Each part found, missing or unreadable; with {@code deep} also each part's interface, its
     * config values and its tokenizer, as generation would open them. Opens every session.
     */
    public static ModelReport check(Path root, PartCheck deep) throws EngineException {
        OrtRuntime runtime = new OrtRuntime(Device.CPU, 1);
        return inspect(root, deep, (c, file) -> {
            try (OnnxModel model = OnnxModel.open(runtime, c.folder(), file)) {
                Io io = new Io(ports(model.inputs()), ports(model.outputs()), null);
                try {
                    deep.component(c, model);
                    return io;
                } catch (EngineException e) {
                    return new Io(io.inputs(), io.outputs(), e.getMessage());
                }
            }
        });
    }

    /**
     * The cheap layout check for listing models: files, configs, and each graph's inputs and outputs
     * read from the ONNX protobuf without weights ({@link OnnxSignature}). Opens no session and no tokenizer.
     */
    public static ModelReport layout(Path root) throws EngineException {
        return inspect(root, PartCheck.NONE, (c, file) -> {
            OnnxSignature sig = OnnxSignature.read(file);
            return new Io(sig.inputs(), sig.outputs(), null);
        });
    }

    /** A graph's inputs and outputs, however they were read, and why it cannot be used, if it cannot. */
    private record Io(List<OnnxSignature.Port> inputs, List<OnnxSignature.Port> outputs, String problem) {
    }

    private interface Inspector {
        Io read(Component c, Path file) throws EngineException;
    }

    /** A session's inputs or outputs in the form the reports print. */
    public static List<OnnxSignature.Port> ports(java.util.Map<String, TensorInfo> infos) {
        List<OnnxSignature.Port> out = new ArrayList<>();
        infos.forEach((name, info) -> {
            String[] names = info.getDimensionNames();
            long[] shape = info.getShape();
            String[] dimNames = new String[shape.length];
            for (int i = 0; i < shape.length; i++) {
                dimNames[i] = names != null && i < names.length ? names[i] : null;
            }
            out.add(new OnnxSignature.Port(name, info.type.toString().toLowerCase(java.util.Locale.ROOT), shape, dimNames));
        });
        return out;
    }

    private static ModelReport inspect(Path root, PartCheck deep, Inspector inspector) throws EngineException {
        ModelFolder folder = ModelFolder.detect(root);
        List<Part> parts = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Component c : Component.values()) {
            parts.add(checkComponent(folder, c, inspector, notes));
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
        boolean scheduler = Files.isRegularFile(folder.schedulerConfigFile());
        if (!scheduler) {
            notes.add("no scheduler/scheduler_config.json: SD3's defaults (shift 3.0) are used.");
        }
        return new ModelReport(folder.root(), folder.layout().name().toLowerCase(), parts, notes);
    }

    /** The JSON configs generation reads: a value it cannot use makes the folder unusable. */
    private static Part configs(ModelFolder folder) {
        String problem = null;
        try {
            TransformerConfig.read(folder.configOf(Component.TRANSFORMER));
            VaeConfig.read(folder.configOf(Component.VAE_DECODER));
            folder.schedulerConfig();
        } catch (EngineException e) {
            problem = e.getMessage();
        }
        return new Part("configs", "config.json files", true, problem == null ? Status.FOUND : Status.UNREADABLE,
                "json", 0, List.of(), List.of(), problem);
    }

    private static Part checkComponent(ModelFolder folder, Component c, Inspector inspector, List<String> notes) {
        var file = folder.modelFile(c);
        if (file.isEmpty()) {
            return new Part(c.folder(), c.description(), c.required(), Status.MISSING, "-", 0, List.of(), List.of(),
                    "no " + c.folder() + "/" + ModelFolder.MODEL_FILE);
        }
        Path dir = file.get().getParent();
        long bytes = size(dir);
        try {
            Io io = inspector.read(c, file.get());
            List<String> outputNames = io.outputs().stream().map(OnnxSignature.Port::name).toList();
            List<String> in = io.inputs().stream().map(OnnxSignature.Port::describe).toList();
            List<String> out = io.outputs().stream()
                    .filter(p -> !p.name().startsWith("hidden_states.") || isPenultimateOrLast(outputNames, p.name()))
                    .map(OnnxSignature.Port::describe).toList();
            String format = format(io, dir);
            if (io.problem() != null) {
                return new Part(c.folder(), c.description(), c.required(), Status.UNREADABLE, format, bytes, in, out,
                        io.problem());
            }
            if ((c == Component.TEXT_ENCODER || c == Component.TEXT_ENCODER_2)
                    && outputNames.stream().noneMatch(n -> n.startsWith("hidden_states."))) {
                notes.add(c.folder() + " exports no per-layer hidden states: last_hidden_state is used instead of"
                        + " the penultimate layer, so images will differ from the reference.");
            }
            return new Part(c.folder(), c.description(), c.required(), Status.FOUND, format, bytes, in, out, null);
        } catch (EngineException e) {
            return new Part(c.folder(), c.description(), c.required(), Status.UNREADABLE, "-", bytes, List.of(),
                    List.of(), e.getMessage());
        }
    }

    private static boolean isPenultimateOrLast(List<String> outputs, String name) {
        long count = outputs.stream().filter(n -> n.startsWith("hidden_states.")).count();
        return name.equals("hidden_states." + (count - 2)) || name.equals("hidden_states." + (count - 1));
    }

    private static String format(Io io, Path dir) {
        boolean half = io.inputs().stream().anyMatch(t -> t.elementType().equals("float16"))
                || io.outputs().stream().anyMatch(t -> t.elementType().equals("float16"));
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
}
