package dev.sd3studio.app.gpu;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What the GPU check found: the driver, the GPUs, each library and the pack, and the verdict. */
public record GpuStatus(Optional<Driver> driver, List<Gpu> gpus, List<Library> libraries, Optional<GpuPack> pack,
                        boolean ortHasCuda) {
    /** The NVIDIA driver; {@code cudaVersion} is the newest CUDA it runs, with where that came from. */
    public record Driver(String version, String cudaVersion, String source) {
    }

    public record Gpu(int index, String name, long memoryMiB) {
    }

    public enum Origin { PACK, CUDA_DIR, SYSTEM, PYTORCH }

    /** A library and where it was found ({@code null} when missing). */
    public record Library(String name, Path path, Origin origin) {
        public boolean found() {
            return path != null;
        }
    }

    public List<String> missingLibraries() {
        return libraries.stream().filter(l -> !l.found()).map(Library::name).toList();
    }

    /** Usable when the driver is there and every library loads from somewhere. */
    public boolean ready() {
        return driver.isPresent() && missingLibraries().isEmpty() && (ortHasCuda || pack.map(GpuPack::ortUsable).orElse(false));
    }

    public List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add("NVIDIA driver: " + driver.map(d -> d.version() + ", runs CUDA up to " + d.cudaVersion() + " (" + d.source() + ")")
                .orElse("not found (no /proc/driver/nvidia/version, no libcuda; nvidia-smi absent)"));
        if (gpus.isEmpty()) {
            out.add("GPUs: none found");
        } else {
            for (Gpu g : gpus) {
                out.add("GPU " + g.index() + ": " + g.name() + (g.memoryMiB() > 0 ? ", " + String.format(java.util.Locale.ROOT,
                        "%.1f GB", g.memoryMiB() / 1024.0) : ""));
            }
        }
        out.add("CUDA 12 / cuDNN 9 libraries:");
        for (Library l : libraries) {
            out.add(String.format(java.util.Locale.ROOT, "  %-20s %s", l.name(),
                    l.found() ? "found (" + origin(l.origin()) + ") " + l.path() : "missing"));
        }
        out.add("ONNX Runtime CUDA provider: " + (ortHasCuda ? "in this build"
                : pack.map(GpuPack::ortUsable).orElse(false) ? "from the GPU pack" : "missing (CPU-only build)"));
        out.add("GPU pack: " + pack.map(p -> "installed in " + p.dir() + " (ONNX Runtime " + p.manifest().ortVersion()
                + ", CUDA " + p.manifest().cudaRelease() + ", cuDNN " + p.manifest().cudnnRelease() + ", "
                + dev.sd3studio.app.hub.Sizes.human(p.bytes()) + (p.damaged().isEmpty() ? "" : ", DAMAGED: "
                + String.join(", ", p.damaged()) + " - run sd3studio gpu install again") + ")").orElse("not installed"));
        out.add(verdict());
        return out;
    }

    public String verdict() {
        if (driver.isEmpty()) {
            return "=> no NVIDIA driver: the GPU cannot be used here; generation runs on the CPU. With an NVIDIA card,"
                    + " install its driver; `sd3studio gpu install` (or \"Install GPU pack\") then fetches what is missing.";
        }
        if (ready()) {
            return "=> GPU ready: choose cuda:0 as the device (--device cuda).";
        }
        return "=> missing " + String.join(", ", missingLibraries()) + ": run `sd3studio gpu install` (downloads them"
                + " from NVIDIA into the app's data folder; asks before downloading).";
    }

    private static String origin(Origin o) {
        return switch (o) {
            case PACK -> "GPU pack";
            case CUDA_DIR -> "SD3STUDIO_CUDA_DIR";
            case SYSTEM -> "system";
            case PYTORCH -> "PyTorch";
        };
    }
}
