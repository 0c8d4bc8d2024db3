package dev.sd3studio.engine;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.model.ModelCheck;
import dev.sd3studio.engine.pipeline.PipelinePartCheck;
import dev.sd3studio.engine.pipeline.Sd3Pipeline;

import java.nio.file.Path;

/** The engine's front door: open a model folder for generation, or inspect one. */
public final class Sd3Engine {
    private Sd3Engine() {
    }

    public static Sd3Generator open(Path modelDir, EngineOptions options) throws EngineException {
        return Sd3Pipeline.open(modelDir, options);
    }

    /** The deep probe ({@code check-model}): loads every component as an ONNX Runtime session. */
    public static ModelCheck.Report check(Path modelDir) throws EngineException {
        return ModelCheck.check(modelDir, new PipelinePartCheck());
    }

    /**
     * The cheap check for listing models: files, configs and each graph's inputs and outputs read from
     * the ONNX protobuf without its weights. Opens no session, so a full-size folder lists in milliseconds.
     */
    public static ModelCheck.Report layout(Path modelDir) throws EngineException {
        return ModelCheck.layout(modelDir);
    }
}
