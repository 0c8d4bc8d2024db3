package dev.sd3studio.engine;

import dev.sd3studio.engine.api.CheckpointFiles;
import dev.sd3studio.engine.graph.CheckpointCheck;
import dev.sd3studio.engine.graph.CheckpointModel;
import dev.sd3studio.engine.model.PartCheck;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.api.ModelReport;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.image.ImageLoader;
import dev.sd3studio.engine.model.ModelCheck;
import dev.sd3studio.engine.pipeline.PipelinePartCheck;
import dev.sd3studio.engine.pipeline.Sd3Pipeline;
import dev.sd3studio.engine.runtime.GpuLibraries;

import java.nio.file.Path;

/**
 * The engine's front door: open a model folder for generation, inspect one, read a user's picture,
 * point ONNX Runtime at GPU libraries. With the {@code api} package, all the app may use
 * ({@code ArchitectureTest} holds it to that).
 */
public final class Sd3Engine {
    /** The system property ONNX Runtime reads its native library folder from, once, at first use. */
    public static final String ORT_NATIVE_PATH_PROPERTY = GpuLibraries.ORT_NATIVE_PATH;

    private Sd3Engine() {
    }

    public static Sd3Generator open(Path modelDir, EngineOptions options) throws EngineException {
        return Sd3Pipeline.open(modelDir, options);
    }

    /** The deep probe ({@code check-model}): loads every component as an ONNX Runtime session. */
    public static ModelReport check(Path modelDir) throws EngineException {
        return check(modelDir, CheckpointFiles.NONE);
    }

    /** As {@link #check(Path)}; a {@code .safetensors} checkpoint's graphs are built and each one opened. */
    public static ModelReport check(Path model, CheckpointFiles files) throws EngineException {
        return CheckpointModel.isCheckpoint(model) ? CheckpointCheck.check(model, files, new PipelinePartCheck(), true)
                : ModelCheck.check(model, new PipelinePartCheck());
    }

    /**
     * The cheap check for listing models: files, configs and each graph's inputs and outputs read from
     * the ONNX protobuf without its weights. Opens no session, so a full-size folder lists in milliseconds.
     */
    public static ModelReport layout(Path modelDir) throws EngineException {
        return layout(modelDir, CheckpointFiles.NONE);
    }

    /** As {@link #layout(Path)}; for a checkpoint, only its headers and configs are read. */
    public static ModelReport layout(Path model, CheckpointFiles files) throws EngineException {
        return CheckpointModel.isCheckpoint(model) ? CheckpointCheck.check(model, files, PartCheck.NONE, false)
                : ModelCheck.layout(model);
    }

    /**
     * Whether a {@code .safetensors} file is a model checkpoint (to be added as a model) rather than a LoRA
     * (to be added to one): read from its header only.
     */
    public static boolean isCheckpointFile(Path file) {
        return dev.sd3studio.engine.checkpoint.CheckpointOpener.isModelFile(file);
    }

    /**
     * A user's picture for image-to-image or as a mask: EXIF orientation applied, damaged, truncated
     * and oversized files refused with a message that names the problem.
     */
    public static RgbImage loadImage(Path file) throws EngineException {
        return ImageLoader.load(file);
    }

    /**
     * Uses the GPU libraries the app found or installed ({@code ortNatives}, {@code cudaDir}, either may
     * be null) unless the user configured others; must run before the first session is made.
     */
    public static void useGpuLibraries(Path ortNatives, Path cudaDir) {
        GpuLibraries.use(ortNatives, cudaDir);
    }
}
