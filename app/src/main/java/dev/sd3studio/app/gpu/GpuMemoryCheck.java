package dev.sd3studio.app.gpu;

import java.nio.file.Path;
import java.util.Optional;

/** The check before a GPU run: the estimate against the chosen GPU's memory (when nvidia-smi tells it). */
public final class GpuMemoryCheck {
    private GpuMemoryCheck() {
    }

    public static Optional<String> before(Path model, Integer width, Integer height, int batch, int gpuIndex,
                                          boolean offload, boolean noT5) {
        GpuStatus status = GpuProbe.system().status(Optional.empty());
        long gpuBytes = status.gpus().stream().filter(g -> g.index() == gpuIndex).mapToLong(g -> g.memoryMiB() << 20)
                .findFirst().orElse(0);
        return MemoryEstimate.of(model, width, height, Math.max(1, batch)).advice(gpuBytes, offload, noT5);
    }
}
