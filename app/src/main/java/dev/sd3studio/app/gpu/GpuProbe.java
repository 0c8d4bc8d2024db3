package dev.sd3studio.app.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Looks for the GPU's pieces without loading anything: the driver from its files
 * ({@code /proc/driver/nvidia/version}, {@code libcuda.so.VERSION}) and {@code nvidia-smi}, and
 * each CUDA 12 / cuDNN 9 library in the pack, {@code SD3STUDIO_CUDA_DIR}, the system's library
 * folders and CUDA installs, and PyTorch's (pip {@code nvidia-*-cu12} wheels, {@code torch/lib}).
 * All paths hang off {@code root}, so tests can point it at a fake driver folder.
 */
public final class GpuProbe {
    private final Path root;
    private final Map<String, String> env;
    private final Platform platform;
    private final Path home;

    public GpuProbe(Path root, Map<String, String> env, Platform platform, Path home) {
        this.root = root;
        this.env = env;
        this.platform = platform;
        this.home = home;
    }

    public static GpuProbe system() {
        return new GpuProbe(Path.of("/"), System.getenv(), Platform.current(), Path.of(System.getProperty("user.home", ".")));
    }

    public GpuStatus status(Optional<GpuPack> pack) {
        List<GpuStatus.Gpu> gpus = new ArrayList<>();
        Optional<GpuStatus.Driver> driver = driver(gpus);
        List<GpuStatus.Library> libs = new ArrayList<>();
        for (String lib : platform.cudaLibraries()) {
            libs.add(find(lib, pack));
        }
        boolean ortHasCuda = GpuProbe.class.getClassLoader().getResource(platform.ortJarFolder()
                + (platform == Platform.LINUX ? "libonnxruntime_providers_cuda.so" : "onnxruntime_providers_cuda.dll")) != null;
        return new GpuStatus(driver, gpus, libs, pack, ortHasCuda);
    }

    /** Only the libraries (no driver, no nvidia-smi): cheap enough for every start. */
    public List<GpuStatus.Library> libraryStatus() {
        List<GpuStatus.Library> libs = new ArrayList<>();
        for (String lib : platform.cudaLibraries()) {
            libs.add(find(lib, Optional.empty()));
        }
        return libs;
    }

    // ---- driver ----

    private Optional<GpuStatus.Driver> driver(List<GpuStatus.Gpu> gpus) {
        Optional<String> smi = nvidiaSmi();
        String version = null;
        String cuda = null;
        String source = null;
        if (smi.isPresent()) {
            Matcher v = Pattern.compile("Driver Version:\\s*([0-9.]+)").matcher(smi.get());
            Matcher c = Pattern.compile("CUDA Version:\\s*([0-9.]+)").matcher(smi.get());
            if (v.find()) {
                version = v.group(1);
            }
            if (c.find()) {
                cuda = c.group(1);
                source = "nvidia-smi";
            }
            gpus.addAll(smiGpus());
        }
        if (version == null) {
            version = procVersion().or(this::libcudaVersion).orElse(null);
        }
        if (version == null) {
            return Optional.empty();
        }
        if (cuda == null) {
            cuda = cudaForDriver(version);
            source = "from the driver version";
        }
        if (gpus.isEmpty()) {
            gpus.addAll(procGpus());
        }
        return Optional.of(new GpuStatus.Driver(version, cuda, source));
    }

    private Optional<String> procVersion() {
        Path f = root.resolve("proc/driver/nvidia/version");
        try {
            if (Files.isRegularFile(f)) {
                Matcher m = Pattern.compile("Kernel Module(?: for [^ ]+)?\\s+([0-9]+\\.[0-9.]+)").matcher(Files.readString(f));
                if (m.find()) {
                    return Optional.of(m.group(1));
                }
            }
        } catch (IOException ignored) {
            // unreadable: try the library's file name next
        }
        return Optional.empty();
    }

    private Optional<String> libcudaVersion() {
        for (Path dir : systemDirs()) {
            try (Stream<Path> s = Files.list(dir)) {
                Optional<String> v = s.map(p -> p.getFileName().toString())
                        .filter(n -> n.matches("libcuda\\.so\\.[0-9]+\\.[0-9.]+")).map(n -> n.substring("libcuda.so.".length()))
                        .findFirst();
                if (v.isPresent()) {
                    return v;
                }
            } catch (IOException ignored) {
                // not a folder here
            }
        }
        return Optional.empty();
    }

    private List<GpuStatus.Gpu> procGpus() {
        List<GpuStatus.Gpu> out = new ArrayList<>();
        Path dir = root.resolve("proc/driver/nvidia/gpus");
        try (Stream<Path> s = Files.list(dir)) {
            int i = 0;
            for (Path g : s.sorted().toList()) {
                Matcher m = Pattern.compile("Model:\\s*(.+)").matcher(Files.readString(g.resolve("information")));
                out.add(new GpuStatus.Gpu(i++, m.find() ? m.group(1).strip() : g.getFileName().toString(), 0));
            }
        } catch (IOException ignored) {
            // no GPUs listed
        }
        return out;
    }

    /** The CUDA version a driver runs at most (NVIDIA's CUDA release notes, table 3). */
    static String cudaForDriver(String driver) {
        int major = Integer.parseInt(driver.split("\\.")[0]);
        if (major >= 580) {
            return "13.0";
        }
        int[][] table = {{575, 129}, {570, 128}, {560, 126}, {555, 125}, {550, 124}, {545, 123}, {535, 122}, {530, 121}, {525, 120}};
        for (int[] row : table) {
            if (major >= row[0]) {
                return row[1] / 10 + "." + row[1] % 10;
            }
        }
        return "11.x or older (too old for CUDA 12: update the driver)";
    }

    private Optional<String> nvidiaSmi() {
        return run(List.of("nvidia-smi"));
    }

    private List<GpuStatus.Gpu> smiGpus() {
        List<GpuStatus.Gpu> out = new ArrayList<>();
        run(List.of("nvidia-smi", "--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits")).ifPresent(text -> {
            for (String line : text.strip().split("\n")) {
                String[] f = line.split(",");
                if (f.length >= 3) {
                    try {
                        out.add(new GpuStatus.Gpu(Integer.parseInt(f[0].strip()), f[1].strip(), Long.parseLong(f[2].strip())));
                    } catch (NumberFormatException ignored) {
                        // a line we do not understand
                    }
                }
            }
        });
        return out;
    }

    private Optional<String> run(List<String> command) {
        Optional<Path> exe = onPath(command.getFirst());
        if (exe.isEmpty()) {
            return Optional.empty();
        }
        List<String> cmd = new ArrayList<>(command);
        cmd.set(0, exe.get().toString());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            try (InputStream in = p.getInputStream()) {
                String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    p.destroyForcibly();
                    return Optional.empty();
                }
                return Optional.of(out);
            }
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private Optional<Path> onPath(String exe) {
        String path = env.getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir).resolve(platform == Platform.WINDOWS ? exe + ".exe" : exe);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    // ---- libraries ----

    private GpuStatus.Library find(String lib, Optional<GpuPack> pack) {
        if (pack.isPresent() && Files.isRegularFile(pack.get().cudaDir().resolve(lib))) {
            return new GpuStatus.Library(lib, pack.get().cudaDir().resolve(lib), GpuStatus.Origin.PACK);
        }
        String cudaDir = env.get("SD3STUDIO_CUDA_DIR");
        if (cudaDir != null && Files.isRegularFile(Path.of(cudaDir).resolve(lib))) {
            return new GpuStatus.Library(lib, Path.of(cudaDir).resolve(lib), GpuStatus.Origin.CUDA_DIR);
        }
        for (Path dir : systemDirs()) {
            if (Files.isRegularFile(dir.resolve(lib))) {
                return new GpuStatus.Library(lib, dir.resolve(lib), GpuStatus.Origin.SYSTEM);
            }
        }
        for (Path dir : pytorchDirs()) {
            if (Files.isRegularFile(dir.resolve(lib))) {
                return new GpuStatus.Library(lib, dir.resolve(lib), GpuStatus.Origin.PYTORCH);
            }
        }
        return new GpuStatus.Library(lib, null, null);
    }

    /** Folders the system's loader searches, and where CUDA toolkits install. */
    List<Path> systemDirs() {
        Set<Path> dirs = new LinkedHashSet<>();
        String ld = env.get(platform == Platform.WINDOWS ? "PATH" : "LD_LIBRARY_PATH");
        if (ld != null) {
            for (String d : ld.split(java.io.File.pathSeparator)) {
                if (!d.isEmpty()) {
                    dirs.add(Path.of(d));
                }
            }
        }
        for (String var : new String[] {"CUDA_PATH", "CUDA_HOME"}) {
            if (env.get(var) != null) {
                dirs.add(Path.of(env.get(var), platform == Platform.WINDOWS ? "bin" : "lib64"));
            }
        }
        if (platform == Platform.LINUX) {
            for (String d : new String[] {"usr/local/cuda/lib64", "usr/local/cuda/targets/x86_64-linux/lib",
                    "usr/lib/x86_64-linux-gnu", "usr/lib64", "usr/lib", "lib/x86_64-linux-gnu", "usr/lib/wsl/lib"}) {
                dirs.add(root.resolve(d));
            }
            globDirs(root.resolve("usr/local"), "cuda-12*", "lib64").forEach(dirs::add);
        }
        return List.copyOf(dirs);
    }

    /** PyTorch's CUDA libraries: pip's nvidia-*-cu12 wheels ({@code site-packages/nvidia/X/lib}) and {@code torch/lib}. */
    List<Path> pytorchDirs() {
        List<Path> sitePackages = new ArrayList<>();
        if (env.get("VIRTUAL_ENV") != null) {
            sitePackages.addAll(globDirs(Path.of(env.get("VIRTUAL_ENV"), "lib"), "python3*", "site-packages"));
        }
        if (env.get("CONDA_PREFIX") != null) {
            sitePackages.addAll(globDirs(Path.of(env.get("CONDA_PREFIX"), "lib"), "python3*", "site-packages"));
        }
        sitePackages.addAll(globDirs(home.resolve(".local/lib"), "python3*", "site-packages"));
        for (String base : new String[] {"usr/lib", "usr/local/lib"}) {
            sitePackages.addAll(globDirs(root.resolve(base), "python3*", "dist-packages"));
            sitePackages.addAll(globDirs(root.resolve(base), "python3*", "site-packages"));
        }
        List<Path> out = new ArrayList<>();
        for (Path sp : sitePackages) {
            out.addAll(globDirs(sp.resolve("nvidia"), "*", "lib"));
            out.add(sp.resolve("torch/lib"));
        }
        return out;
    }

    private static List<Path> globDirs(Path parent, String glob, String child) {
        if (!Files.isDirectory(parent)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (var s = Files.newDirectoryStream(parent, glob)) {
            for (Path p : s) {
                if (Files.isDirectory(p.resolve(child))) {
                    out.add(p.resolve(child));
                }
            }
        } catch (IOException ignored) {
            // unreadable folder: nothing found there
        }
        out.sort(null);
        return out;
    }
}
