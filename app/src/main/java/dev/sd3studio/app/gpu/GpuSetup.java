package dev.sd3studio.app.gpu;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.engine.Sd3Engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * At start-up, before the engine loads ONNX Runtime: use the GPU pack when one is installed, or
 * link the CUDA libraries of a PyTorch installation into one folder when that is where they are,
 * so they are used without a download. Never fails the start: a problem here only means the GPU
 * check later names what is missing.
 */
public final class GpuSetup {
    /** What the engine is pointed at; {@code null} parts are left to the system. */
    public record Choice(Path ortNatives, Path cudaDir, String why) {
    }

    private GpuSetup() {
    }

    public static Choice apply(AppDirs dirs) {
        try {
            Choice c = decide(GpuPack.home(dirs), GpuProbe.system());
            Sd3Engine.useGpuLibraries(c.ortNatives(), c.cudaDir());
            return c;
        } catch (RuntimeException e) {
            return new Choice(null, null, "GPU set-up skipped: " + e.getMessage());
        }
    }

    static Choice decide(Path gpuHome, GpuProbe probe) {
        Optional<GpuPack> pack = GpuPack.find(gpuHome);
        if (pack.isPresent() && pack.get().damaged().isEmpty()) {
            GpuPack p = pack.get();
            return new Choice(p.ortUsable() ? p.ortDir() : null, p.cudaDir(), "GPU pack " + p.dir());
        }
        GpuStatus.Library[] libs = probe.libraryStatus().toArray(GpuStatus.Library[]::new);
        boolean allFound = java.util.Arrays.stream(libs).allMatch(GpuStatus.Library::found);
        boolean fromPyTorch = java.util.Arrays.stream(libs).anyMatch(l -> l.origin() == GpuStatus.Origin.PYTORCH);
        if (allFound && fromPyTorch) {
            Path linked = gpuHome.resolve("linked-cuda");
            try {
                link(List.of(libs), linked);
                return new Choice(null, linked, "CUDA libraries of PyTorch, linked in " + linked);
            } catch (IOException e) {
                return new Choice(null, null, "could not link PyTorch's CUDA libraries: " + e.getMessage());
            }
        }
        return new Choice(null, null, allFound ? "system CUDA libraries" : "no GPU libraries set up");
    }

    /** Symbolic links to each library, and to cuDNN's parts beside libcudnn, in one folder. */
    static void link(List<GpuStatus.Library> libs, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (GpuStatus.Library l : libs) {
            linkOne(l.path(), dir.resolve(l.name()));
            if (l.name().startsWith("libcudnn.so")) {
                try (var parts = Files.newDirectoryStream(l.path().getParent(), "libcudnn_*.so.9")) {
                    for (Path part : parts) {
                        linkOne(part, dir.resolve(part.getFileName().toString()));
                    }
                }
            }
        }
    }

    private static void linkOne(Path target, Path link) throws IOException {
        if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(target.toAbsolutePath())) {
            return;
        }
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, target.toAbsolutePath());
    }
}
