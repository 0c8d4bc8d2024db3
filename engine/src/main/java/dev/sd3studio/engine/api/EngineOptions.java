package dev.sd3studio.engine.api;

import java.nio.file.Path;

/**
 * How an engine runs a model folder.
 *
 * @param previewModel a TAESD3-interface folder for step previews; null looks inside the model
 *                     folder ({@code taesd3/}) and otherwise uses the linear latent projection
 * @param threads      intra-op threads for ONNX Runtime; 0 = one per available processor
 */
public record EngineOptions(Device device, MemoryMode memoryMode, Path previewModel, int threads) {
    public static EngineOptions defaults() {
        return new EngineOptions(Device.CPU, MemoryMode.RESIDENT, null, 0);
    }

    public EngineOptions withDevice(Device d) {
        return new EngineOptions(d, memoryMode, previewModel, threads);
    }

    public EngineOptions withMemoryMode(MemoryMode m) {
        return new EngineOptions(device, m, previewModel, threads);
    }

    public EngineOptions withPreviewModel(Path p) {
        return new EngineOptions(device, memoryMode, p, threads);
    }
}
