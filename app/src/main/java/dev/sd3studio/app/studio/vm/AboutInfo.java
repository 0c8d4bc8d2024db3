package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.AppVersion;
import dev.sd3studio.app.gpu.GpuPack;
import dev.sd3studio.app.gpu.GpuProbe;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.engine.api.EngineInfo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the About dialog shows, collected when it opens: versions, the execution providers that can run
 * here (not every one compiled in), the device and why, folders, licences.
 */
public record AboutInfo(String version, EngineInfo engine, List<String> providersHere, Device device, List<Folder> folders,
                        String notices) {
    /** The device generations run on and the reason, in words. */
    public record Device(String name, String reason) {
    }

    public record Folder(String label, Path path) {
    }

    public static AboutInfo collect(AppDirs dirs, ParametersViewModel params, Path gallery, Optional<Path> builtIn) {
        List<Folder> folders = new ArrayList<>();
        folders.add(new Folder("Settings", dirs.config()));
        folders.add(new Folder("Data", dirs.data()));
        folders.add(new Folder("Gallery", gallery));
        builtIn.ifPresent(p -> folders.add(new Folder("Built-in model", p)));
        Optional.ofNullable(System.getProperty("sd3studio.home")).ifPresent(h -> folders.add(new Folder("Installed in", Path.of(h))));
        EngineInfo engine = EngineInfo.current();
        String fallback = params.deviceNoteProperty().get();
        // where the engine already fell back to the CPU, the GPU cannot be used whatever the probe says
        boolean gpuReady = (fallback == null || fallback.isBlank()) && gpuReady(dirs);
        return new AboutInfo(AppVersion.number(), engine, providersHere(gpuReady),
                device(params.deviceProperty().get(), params.deviceNoteProperty().get()), List.copyOf(folders), bundledNotices());
    }

    /**
     * The providers that can run on this machine: the CPU always; CUDA only where the GPU probe finds
     * it ready (the driver, every library, and CUDA in the build or a GPU pack). TensorRT and the like
     * are compiled into the GPU build but need more than the studio installs, so they are not offered.
     */
    static List<String> providersHere(boolean gpuReady) {
        List<String> out = new ArrayList<>(List.of("CPU"));
        if (gpuReady) {
            out.add("CUDA");
        }
        return List.copyOf(out);
    }

    private static boolean gpuReady(AppDirs dirs) {
        try {
            return GpuProbe.system().status(GpuPack.find(GpuPack.home(dirs))).ready();
        } catch (RuntimeException e) {
            return false; // About must open whatever the probe meets
        }
    }

    /** The requested device and the engine's fall-back note (empty when the request was honoured). */
    static Device device(String requested, String fallbackNote) {
        if (fallbackNote != null && !fallbackNote.isBlank()) {
            return new Device("CPU", fallbackNote);
        }
        if (requested == null || requested.equals("cpu")) {
            return new Device("CPU", "chosen under Device in the parameters");
        }
        return new Device("GPU " + requested, "chosen under Device; if the GPU cannot be used, the CPU takes over and says why here");
    }

    /** The third-party notices shipped in the app jar. */
    static String bundledNotices() {
        try (InputStream in = AppVersion.class.getResourceAsStream("THIRD-PARTY-NOTICES.md")) {
            return in == null ? "THIRD-PARTY-NOTICES.md is missing from this build." : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Everything as plain text, for "Copy" (bug reports). */
    public String asText() {
        StringBuilder b = new StringBuilder("SD3 Studio ").append(version).append('\n')
                .append("ONNX Runtime ").append(engine.onnxRuntimeVersion())
                .append(" (can run here: ").append(String.join(", ", providersHere)).append(")\n")
                .append("Device: ").append(device.name()).append(" — ").append(device.reason()).append('\n');
        folders.forEach(f -> b.append(f.label()).append(": ").append(f.path()).append('\n'));
        b.append("Java ").append(System.getProperty("java.version")).append(", ")
                .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch")).append('\n');
        return b.toString();
    }
}
