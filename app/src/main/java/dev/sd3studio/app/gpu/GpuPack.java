package dev.sd3studio.app.gpu;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sd3studio.app.settings.AppDirs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The installed GPU pack in the user's data folder: {@code gpu/pack/} with {@code ort/} (ONNX
 * Runtime's GPU natives), {@code cuda/} (CUDA 12 + cuDNN 9 runtime libraries), {@code licenses/}
 * and {@code pack.json}, written last. A folder without {@code pack.json} is not a pack.
 */
public record GpuPack(Path dir, Manifest manifest) {
    /** What {@code pack.json} records: versions, sources, and every installed file with its hash. */
    public record Manifest(String ortVersion, String cudaRelease, String cudnnRelease, String platform,
                           List<Source> sources, List<InstalledFile> files) {
    }

    public record Source(String url, long size, String sha256) {
    }

    public record InstalledFile(String path, long size, String sha256) {
    }

    public static final String MANIFEST = "pack.json";

    /** {@code <data>/gpu}, the folder of the pack and its downloads. */
    public static Path home(AppDirs dirs) {
        return dirs.data().resolve("gpu");
    }

    public static Optional<GpuPack> find(Path gpuHome) {
        Path dir = gpuHome.resolve("pack");
        Path manifest = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            return Optional.empty();
        }
        try {
            return Optional.of(new GpuPack(dir, new ObjectMapper().readValue(manifest.toFile(), Manifest.class)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public Path ortDir() {
        return dir.resolve("ort");
    }

    public Path cudaDir() {
        return dir.resolve("cuda");
    }

    public long bytes() {
        return manifest.files().stream().mapToLong(InstalledFile::size).sum();
    }

    /** Files listed but gone or changed in size (a quick check; hashes were verified at install). */
    public List<String> damaged() {
        return manifest.files().stream().filter(f -> {
            Path p = dir.resolve(f.path());
            try {
                return !Files.isRegularFile(p) || Files.size(p) != f.size();
            } catch (IOException e) {
                return true;
            }
        }).map(InstalledFile::path).toList();
    }

    /** The pack's ORT natives fit this app only if they are of the ORT version it was built with. */
    public boolean ortUsable() {
        return GpuPackRecipe.ORT_VERSION.equals(manifest.ortVersion()) && Files.isDirectory(ortDir()) && damaged().isEmpty();
    }
}
