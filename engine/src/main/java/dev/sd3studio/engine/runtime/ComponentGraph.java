package dev.sd3studio.engine.runtime;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a session's graph comes from: an ONNX file (an export), or a graph the engine built in memory whose
 * weights are external references into files under one folder (a checkpoint). Sessions are made the same
 * way from either; only a file can be rewritten by {@link SkipLayerGraph}, a built graph is built skippable.
 *
 * @param source        what messages name: the ONNX file, or the checkpoint file the weights are read from
 * @param built         the serialized ModelProto, or null for a file
 * @param weightFolder  the folder the built graph's external data locations are relative to (null for a file)
 */
public record ComponentGraph(Path source, byte[] built, Path weightFolder) {
    public static ComponentGraph file(Path onnxFile) {
        return new ComponentGraph(onnxFile, null, null);
    }

    public static ComponentGraph built(Path source, byte[] model, Path weightFolder) {
        return new ComponentGraph(source, model, weightFolder);
    }

    public boolean isBuilt() {
        return built != null;
    }

    /** The ONNX file, for what only works on files (LoRA merges, block rewiring, signature reads). */
    public Optional<Path> onnxFile() {
        return isBuilt() ? Optional.empty() : Optional.of(source);
    }
}
