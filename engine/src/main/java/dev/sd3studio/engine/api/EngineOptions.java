package dev.sd3studio.engine.api;

import java.nio.file.Path;

/**
 * How an engine runs a model folder.
 *
 * @param previewModel a TAESD3-interface folder for step previews; null looks inside the model
 *                     folder ({@code taesd3/}) and otherwise uses the linear latent projection
 * @param threads      intra-op threads for ONNX Runtime; 0 = one per available processor
 * @param weights      the precision of the transformer's and T5's large linear layers
 */
public record EngineOptions(Device device, MemoryMode memoryMode, Path previewModel, int threads,
                            WeightPrecision weights) {
    public EngineOptions {
        weights = weights == null ? WeightPrecision.STORED : weights;
    }

    public EngineOptions(Device device, MemoryMode memoryMode, Path previewModel, int threads) {
        this(device, memoryMode, previewModel, threads, WeightPrecision.STORED);
    }

    public static EngineOptions defaults() {
        return new EngineOptions(Device.CPU, MemoryMode.RESIDENT, null, 0, WeightPrecision.STORED);
    }

    public EngineOptions withDevice(Device d) {
        return new EngineOptions(d, memoryMode, previewModel, threads, weights);
    }

    public EngineOptions withMemoryMode(MemoryMode m) {
        return new EngineOptions(device, m, previewModel, threads, weights);
    }

    public EngineOptions withPreviewModel(Path p) {
        return new EngineOptions(device, memoryMode, p, threads, weights);
    }

    public EngineOptions withWeights(WeightPrecision w) {
        return new EngineOptions(device, memoryMode, previewModel, threads, w);
    }
}
