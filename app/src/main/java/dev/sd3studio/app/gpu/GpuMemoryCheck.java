package dev.sd3studio.app.gpu;

import dev.sd3studio.engine.api.WeightPrecision;

import java.nio.file.Path;
import java.util.Optional;

/** The check before a GPU run: the estimate against the chosen GPU's memory (when nvidia-smi tells it). */
public final class GpuMemoryCheck {
    private GpuMemoryCheck() {
    }

    public static Optional<String> before(Path model, Integer width, Integer height, int batch, int gpuIndex,
                                          boolean offload, boolean noT5) {
        return before(model, width, height, batch, gpuIndex, offload, noT5, WeightPrecision.STORED);
    }

    /** As above, with the transformer's and T5's linear layers in {@code weights}. */
    public static Optional<String> before(Path model, Integer width, Integer height, int batch, int gpuIndex,
                                          boolean offload, boolean noT5, WeightPrecision weights) {
        GpuStatus status = GpuProbe.system().status(Optional.empty());
        long gpuBytes = status.gpus().stream().filter(g -> g.index() == gpuIndex).mapToLong(g -> g.memoryMiB() << 20)
                .findFirst().orElse(0);
        return MemoryEstimate.of(model, width, height, Math.max(1, batch)).withWeights(weights).advice(gpuBytes, offload, noT5);
    }
}
