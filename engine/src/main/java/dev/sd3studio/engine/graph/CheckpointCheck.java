package dev.sd3studio.engine.graph;

import dev.sd3studio.engine.api.CheckpointFiles;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.ModelReport;
import dev.sd3studio.engine.api.ModelReport.Part;
import dev.sd3studio.engine.api.ModelReport.Status;
import dev.sd3studio.engine.checkpoint.ComponentWeights;
import dev.sd3studio.engine.checkpoint.WeightRef;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.model.ModelCheck;
import dev.sd3studio.engine.model.OnnxSignature;
import dev.sd3studio.engine.model.PartCheck;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OrtRuntime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * {@code check-model} for a checkpoint: per component found or missing, which file its weights are in, their
 * types and size; with {@code deep}, each graph is also built and opened as a session and given the
 * pipeline's interface checks, as generation would.
 */
public final class CheckpointCheck {
    private CheckpointCheck() {
    }

    public static ModelReport check(Path path, CheckpointFiles files, PartCheck deep, boolean openSessions)
            throws EngineException {
        CheckpointModel model = CheckpointModel.open(path, files);
        OrtRuntime runtime = openSessions ? new OrtRuntime(Device.CPU, 1) : null;
        List<Part> parts = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Component c : Component.values()) {
            parts.add(part(model, c, runtime, deep));
        }
        for (int i = 1; i <= 3; i++) {
            String label = i == 3 ? "T5 tokenizer" : i == 1 ? "CLIP-L tokenizer" : "CLIP-G tokenizer";
            String name = i == 1 ? "tokenizer" : "tokenizer_" + i;
            boolean needed = i < 3 || model.has(Component.TEXT_ENCODER_3);
            try {
                Path dir = model.tokenizerDir(i);
                if (openSessions) {
                    deep.tokenizer(label, dir);
                }
                parts.add(new Part(name, label, needed, Status.FOUND, "from " + dir, 0, List.of(), List.of(), null));
            } catch (EngineException e) {
                parts.add(new Part(name, label, needed, Status.MISSING, "-", 0, List.of(), List.of(), e.getMessage()));
            }
        }
        String configProblem = null;
        try {
            model.transformerConfig();
            model.vaeConfig();
            model.schedulerConfig();
        } catch (EngineException e) {
            configProblem = e.getMessage();
        }
        parts.add(new Part("configs", "configs (from the family or a config folder)", true,
                configProblem == null ? Status.FOUND : Status.UNREADABLE, "json", 0, List.of(), List.of(), configProblem));
        model.checkpoint().family().ifPresentOrElse(
                f -> notes.add("recognised as " + f.displayName() + "; its published settings are built in."),
                () -> notes.add("not one of the released SD3 families: settings come from "
                        + model.checkpoint().configs().find("transformer").map(e -> e.source()).orElse("nowhere")));
        if (!model.has(Component.TEXT_ENCODER_3)) {
            notes.add("no T5 text encoder: generation runs without T5 (drop T5), following long prompts less closely.");
        }
        return new ModelReport(model.root(), model.kind(), parts, notes);
    }

    private static Part part(CheckpointModel model, Component c, OrtRuntime runtime, PartCheck deep) {
        if (!model.has(c)) {
            String why = switch (c) {
                case TEXT_ENCODER_3 -> "no T5 in the file, beside it (text_encoders/t5xxl*.safetensors) or named with --t5";
                case VAE_ENCODER -> "the checkpoint's VAE has no encoder (image-to-image needs it)";
                default -> "not in the checkpoint";
            };
            return new Part(c.folder(), c.description(), c.required(), Status.MISSING, "-", 0, List.of(), List.of(), why);
        }
        ComponentWeights weights;
        try {
            weights = model.checkpoint().require(CheckpointModel.componentOf(c));
        } catch (EngineException e) {
            return new Part(c.folder(), c.description(), c.required(), Status.MISSING, "-", 0, List.of(), List.of(),
                    e.getMessage());
        }
        String prefix = c == Component.VAE_DECODER ? "decoder." : c == Component.VAE_ENCODER ? "encoder." : "";
        Map<String, Long> bytesByType = new TreeMap<>();
        TreeSet<String> fileNames = new TreeSet<>();
        long bytes = 0;
        for (var e : weights.weights().entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                continue;
            }
            WeightRef w = e.getValue();
            bytesByType.merge(w.dtype().name(), w.length(), Long::sum);
            fileNames.add(w.file().getFileName().toString());
            bytes += w.length();
        }
        String format = "safetensors " + String.join("+", bytesByType.keySet()) + " (" + String.join(", ", fileNames) + ")";
        if (runtime == null) {
            return new Part(c.folder(), c.description(), c.required(), Status.FOUND, format, bytes, List.of(), List.of(), null);
        }
        try (OnnxModel session = OnnxModel.open(runtime, c.folder(), model.require(c, false), null, false)) {
            List<String> in = ModelCheck.ports(session.inputs()).stream().map(OnnxSignature.Port::describe).toList();
            List<String> out = ModelCheck.ports(session.outputs()).stream()
                    .filter(p -> !p.name().startsWith("hidden_states.")).map(OnnxSignature.Port::describe)
                    .collect(Collectors.toList());
            try {
                deep.component(c, session);
                return new Part(c.folder(), c.description(), c.required(), Status.FOUND, format, bytes, in, out, null);
            } catch (EngineException e) {
                return new Part(c.folder(), c.description(), c.required(), Status.UNREADABLE, format, bytes, in, out,
                        e.getMessage());
            }
        } catch (EngineException e) {
            return new Part(c.folder(), c.description(), c.required(), Status.UNREADABLE, format, bytes, List.of(),
                    List.of(), e.getMessage());
        }
    }
}
