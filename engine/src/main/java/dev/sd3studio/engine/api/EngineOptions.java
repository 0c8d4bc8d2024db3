package dev.sd3studio.engine.api;

import java.nio.file.Path;

/**
 * How an engine runs a model folder.
 *
 * @param previewModel a TAESD3-interface folder for step previews; null looks inside the model
 *                     folder ({@code taesd3/}) and otherwise uses the linear latent projection
 * @param threads      intra-op threads for ONNX Runtime; 0 = one per available processor
 * @param checkpoint   what a {@code .safetensors} checkpoint may need besides itself (ignored for ONNX exports)
 */
public record EngineOptions(Device device, MemoryMode memoryMode, Path previewModel, int threads,
                            CheckpointFiles checkpoint) {
    public EngineOptions {
        checkpoint = checkpoint == null ? CheckpointFiles.NONE : checkpoint;
    }

    public EngineOptions(Device device, MemoryMode memoryMode, Path previewModel, int threads) {
        this(device, memoryMode, previewModel, threads, CheckpointFiles.NONE);
    }

    public static EngineOptions defaults() {
        return new EngineOptions(Device.CPU, MemoryMode.RESIDENT, null, 0);
    }

    public EngineOptions withCheckpoint(CheckpointFiles files) {
        return new EngineOptions(device, memoryMode, previewModel, threads, files);
    }

    public EngineOptions withDevice(Device d) {
        return new EngineOptions(d, memoryMode, previewModel, threads, checkpoint);
    }

    public EngineOptions withMemoryMode(MemoryMode m) {
        return new EngineOptions(device, m, previewModel, threads, checkpoint);
    }

    public EngineOptions withPreviewModel(Path p) {
        return new EngineOptions(device, memoryMode, p, threads, checkpoint);
    }
}
