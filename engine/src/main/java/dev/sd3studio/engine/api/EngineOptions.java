package dev.sd3studio.engine.api;

import java.nio.file.Path;

/**
 * How an engine runs a model folder.
 *
 * @param previewModel a TAESD3-interface folder for step previews; null looks inside the model
 *                     folder ({@code taesd3/}) and otherwise uses the linear latent projection
 * @param threads      intra-op threads for ONNX Runtime; 0 = one per available processor
 * @param weights      the precision of the transformer's and T5's large linear layers
 * @param checkpoint   what a {@code .safetensors} checkpoint may need besides itself (ignored for ONNX exports)
 */
public record EngineOptions(Device device, MemoryMode memoryMode, Path previewModel, int threads,
                            WeightPrecision weights, CheckpointFiles checkpoint) {
    public EngineOptions {
        weights = weights == null ? WeightPrecision.STORED : weights;
        checkpoint = checkpoint == null ? CheckpointFiles.NONE : checkpoint;
    }

    public EngineOptions(Device device, MemoryMode memoryMode, Path previewModel, int threads) {
        this(device, memoryMode, previewModel, threads, WeightPrecision.STORED, CheckpointFiles.NONE);
    }

    public static EngineOptions defaults() {
        return new EngineOptions(Device.CPU, MemoryMode.RESIDENT, null, 0);
    }

    public EngineOptions withDevice(Device d) {
        return new EngineOptions(d, memoryMode, previewModel, threads, weights, checkpoint);
    }

    public EngineOptions withMemoryMode(MemoryMode m) {
        return new EngineOptions(device, m, previewModel, threads, weights, checkpoint);
    }

    public EngineOptions withPreviewModel(Path p) {
        return new EngineOptions(device, memoryMode, p, threads, weights, checkpoint);
    }

    public EngineOptions withWeights(WeightPrecision w) {
        return new EngineOptions(device, memoryMode, previewModel, threads, w, checkpoint);
    }

    public EngineOptions withCheckpoint(CheckpointFiles files) {
        return new EngineOptions(device, memoryMode, previewModel, threads, weights, files);
    }
}
