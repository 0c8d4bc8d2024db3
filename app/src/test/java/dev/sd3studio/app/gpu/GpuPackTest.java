package dev.sd3studio.app.gpu;

import dev.sd3studio.app.cli.CliRun;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.sd3studio.app.cli.Cli;
import dev.sd3studio.app.hub.ContentHash;
import dev.sd3studio.app.settings.AppDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU pack installed from a loopback server that mirrors Maven Central and NVIDIA's redist
 * folders: archives made at test time with the system's {@code tar} (symbolic links included, as
 * NVIDIA ships them), manifests in NVIDIA's format, and a fake ORT jar.
 */
class GpuPackTest {
    @TempDir
    Path tmp;
    private HttpServer server;
    private Path www;
    private final Map<String, byte[]> corrupt = new LinkedHashMap<>();
    private final List<String> requested = java.util.Collections.synchronizedList(new ArrayList<>());
    /** Paths whose next answer breaks off half-way; each request's path and Range header. */
    private final java.util.Set<String> drops = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final List<String> ranges = java.util.Collections.synchronizedList(new ArrayList<>());
    private String previousData;

    @BeforeEach
    void start() throws IOException {
        www = Files.createDirectories(tmp.resolve("www"));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath().substring(1);
            requested.add(path);
            Path f = www.resolve(path);
            byte[] body = corrupt.containsKey(path) ? corrupt.get(path) : Files.isRegularFile(f) ? Files.readAllBytes(f) : null;
            String range = ex.getRequestHeaders().getFirst("Range");
            ranges.add(path + " " + range);
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
            } else if (drops.remove(path)) {
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body, 0, body.length / 2);
                ex.getResponseBody().flush();
                throw new IOException("dropped on purpose");
            } else if (range != null && range.startsWith("bytes=")) {
                int from = Integer.parseInt(range.substring(6, range.indexOf('-')));
                ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
                ex.sendResponseHeaders(206, body.length - from);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(body, from, body.length - from);
                }
            } else {
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(body);
                }
            }
            ex.close();
        });
        server.start();
        previousData = System.getProperty(AppDirs.PROPERTY);
        System.setProperty(AppDirs.PROPERTY, tmp.resolve("userdata").toString());
    }

    @AfterEach
    void stop() {
        server.stop(0);
        if (previousData == null) {
            System.clearProperty(AppDirs.PROPERTY);
        } else {
            System.setProperty(AppDirs.PROPERTY, previousData);
        }
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + path;
    }

    private static CliRun cli(String... args) {
        return CliRun.of(args);
    }

    /** A tar.xz laid out like NVIDIA's: NAME-archive/{LICENSE,lib/real files + loader-name links}. */
    private Map<String, Object> nvidiaArchive(String dir, String name, Map<String, String> libs) throws Exception {
        Path base = Files.createDirectories(tmp.resolve("build").resolve(name));
        Path lib = Files.createDirectories(base.resolve("lib"));
        Files.writeString(base.resolve("LICENSE"), "NVIDIA licence for " + name);
        for (Map.Entry<String, String> e : libs.entrySet()) {
            // e.key = loader name (libcudart.so.12), e.value = the versioned real file it links to
            Files.writeString(lib.resolve(e.getValue()), "ELF " + e.getValue() + " " + "x".repeat(1000));
            Files.createSymbolicLink(lib.resolve(e.getKey()), Path.of(e.getValue()));
        }
        Files.writeString(lib.resolve("libunrelated_static.a"), "static");
        String file = name + ".tar.xz";
        Path out = Files.createDirectories(www.resolve(dir)).resolve(file);
        Process p = new ProcessBuilder("tar", "-cJf", out.toString(), "-C", base.getParent().toString(), name)
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, new String(p.getInputStream().readAllBytes()));
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("relative_path", name.replaceAll("-linux.*", "") + "/linux-x86_64/" + file);
        Files.createDirectories(www.resolve(dir).resolve(name.replaceAll("-linux.*", "")).resolve("linux-x86_64"));
        Files.move(out, www.resolve(dir).resolve((String) entry.get("relative_path")));
        byte[] bytes = Files.readAllBytes(www.resolve(dir).resolve((String) entry.get("relative_path")));
        entry.put("sha256", ContentHash.sha256Of(www.resolve(dir).resolve((String) entry.get("relative_path"))));
        entry.put("md5", "unused");
        entry.put("size", String.valueOf(bytes.length));
        return entry;
    }

    private Path recipe() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> cuda = new LinkedHashMap<>();
        cuda.put("release_date", "2024-11-19");
        cuda.put("release_label", "12.6.3");
        cuda.put("release_product", "cuda");
        Map<String, Map<String, String>> comps = Map.of(
                "cuda_cudart", Map.of("libcudart.so.12", "libcudart.so.12.6.77"),
                "libcublas", Map.of("libcublas.so.12", "libcublas.so.12.6.4.1", "libcublasLt.so.12", "libcublasLt.so.12.6.4.1"),
                "libcurand", Map.of("libcurand.so.10", "libcurand.so.10.3.7.77"),
                "libcufft", Map.of("libcufft.so.11", "libcufft.so.11.3.0.4"));
        for (var c : comps.entrySet()) {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("name", c.getKey());
            node.put("license", "CUDA Toolkit");
            node.put("version", "12.6.77");
            node.put("linux-x86_64", nvidiaArchive("cuda", c.getKey() + "-linux-x86_64-12.6.77-archive", c.getValue()));
            cuda.put(c.getKey(), node);
        }
        Files.writeString(www.resolve("cuda/redistrib_12.6.3.json"), json.writeValueAsString(cuda));

        Map<String, String> cudnnLibs = new LinkedHashMap<>();
        cudnnLibs.put("libcudnn.so.9", "libcudnn.so.9.5.1");
        for (String part : List.of("graph", "ops", "cnn", "adv", "heuristic", "engines_precompiled", "engines_runtime_compiled")) {
            cudnnLibs.put("libcudnn_" + part + ".so.9", "libcudnn_" + part + ".so.9.5.1");
        }
        Map<String, Object> cudnnNode = new LinkedHashMap<>();
        cudnnNode.put("name", "NVIDIA CUDA Deep Neural Network library");
        cudnnNode.put("license", "cudnn");
        cudnnNode.put("version", "9.5.1.17");
        cudnnNode.put("linux-x86_64", Map.of("cuda12", nvidiaArchive("cudnn", "cudnn-linux-x86_64-9.5.1.17_cuda12-archive", cudnnLibs)));
        Files.writeString(www.resolve("cudnn/redistrib_9.5.1.json"), json.writeValueAsString(
                Map.of("release_label", "9.5.1", "cudnn", cudnnNode)));

        Path jar = www.resolve("maven2/onnxruntime_gpu-1.29.0.jar");
        Files.createDirectories(jar.getParent());
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(jar))) {
            for (String n : List.of("linux-x64/libonnxruntime.so", "linux-x64/libonnxruntime4j_jni.so",
                    "linux-x64/libonnxruntime_providers_shared.so", "linux-x64/libonnxruntime_providers_cuda.so",
                    "linux-x64/libonnxruntime_providers_tensorrt.so", "win-x64/onnxruntime.dll")) {
                z.putNextEntry(new ZipEntry("ai/onnxruntime/native/" + n));
                z.write(("native " + n).getBytes(StandardCharsets.UTF_8));
            }
        }
        GpuPackRecipe r = new GpuPackRecipe(GpuPackRecipe.ORT_VERSION,
                new GpuPackRecipe.Artifact(url("maven2/onnxruntime_gpu-1.29.0.jar"), Files.size(jar), ContentHash.sha256Of(jar)),
                new GpuPackRecipe.PinnedManifest(url("cuda/redistrib_12.6.3.json"),
                        ContentHash.sha256Of(www.resolve("cuda/redistrib_12.6.3.json"))),
                List.of("cuda_cudart", "libcublas", "libcurand", "libcufft"),
                new GpuPackRecipe.PinnedManifest(url("cudnn/redistrib_9.5.1.json"),
                        ContentHash.sha256Of(www.resolve("cudnn/redistrib_9.5.1.json"))), "cuda12");
        Path file = tmp.resolve("recipe.json");
        json.writeValue(file.toFile(), r);
        return file;
    }

    /** The recipe with one field changed ({@code null} removes it), as a user's --recipe file could be. */
    private Path recipeWith(Path base, String field, Object value) throws IOException {
        ObjectMapper json = new ObjectMapper();
        @SuppressWarnings("unchecked")
        Map<String, Object> r = json.readValue(base.toFile(), Map.class);
        String[] path = field.split("\\.");
        Map<String, Object> node = r;
        for (int i = 0; i < path.length - 1; i++) {
            @SuppressWarnings("unchecked")
            Map<String, Object> child = (Map<String, Object>) node.get(path[i]);
            node = child;
        }
        if (value == null) {
            node.remove(path[path.length - 1]);
        } else {
            node.put(path[path.length - 1], value);
        }
        Path file = tmp.resolve("recipe-" + field + ".json");
        json.writeValue(file.toFile(), r);
        return file;
    }

    private boolean anyArchiveRequested() {
        return requested.stream().anyMatch(p -> p.endsWith(".tar.xz") || p.endsWith(".jar"));
    }

    @Test
    void aDroppedArchiveResumesWithARangeRequest() throws Exception {
        Path recipe = recipe();
        String cublas = "cuda/libcublas/linux-x86_64/libcublas-linux-x86_64-12.6.77-archive.tar.xz";
        drops.add(cublas);
        CliRun install = cli("gpu", "install", "--yes", "--recipe", recipe.toString());
        assertEquals(0, install.exit(), install.out() + install.err());
        assertTrue(install.err().contains("connection lost, retrying"), install.err());
        List<String> asked = ranges.stream().filter(r -> r.startsWith(cublas)).toList();
        assertEquals(2, asked.size(), asked.toString());
        assertTrue(asked.get(0).endsWith(" null") && asked.get(1).matches(".* bytes=[1-9]\\d*-"), asked.toString());
        assertTrue(GpuPack.find(tmp.resolve("userdata/data/gpu")).orElseThrow().damaged().isEmpty());
    }

    @Test
    void aManifestThatIsNotThePinnedOneIsRefusedBeforeItsHashesAreUsed() throws Exception {
        Path recipe = recipe();
        // a manifest that still parses and names the same archives, but is not the pinned file
        corrupt.put("cuda/redistrib_12.6.3.json", (Files.readString(www.resolve("cuda/redistrib_12.6.3.json")) + " ")
                .getBytes(StandardCharsets.UTF_8));
        CliRun install = cli("gpu", "install", "--yes", "--recipe", recipe.toString());
        assertEquals(1, install.exit(), install.out() + install.err());
        assertTrue(install.err().contains("is not the one this build pins") && install.err().contains("nothing was downloaded"),
                install.err());
        assertFalse(anyArchiveRequested(), requested.toString());
        assertFalse(Files.exists(tmp.resolve("userdata/data/gpu/pack")));
    }

    @Test
    void aBadRecipeIsRefusedFieldByFieldInWords() throws Exception {
        Path base = recipe();
        Map<Path, String> cases = new LinkedHashMap<>();
        Path empty = tmp.resolve("empty.json");
        Files.writeString(empty, "{}");
        cases.put(empty, "has no ortVersion");
        cases.put(recipeWith(base, "ortVersion", "1.20.0"), "is for ONNX Runtime 1.20.0, but this build");
        cases.put(recipeWith(base, "ortJar", null), "has no ortJar");
        cases.put(recipeWith(base, "ortJar.url", "http://mirror.example.com/ort.jar"), "plain http");
        cases.put(recipeWith(base, "ortJar.url", "file:///etc/passwd"), "not an https URL");
        cases.put(recipeWith(base, "cudaManifest.url", "ftp://mirror.example.com/redistrib.json"), "not an https URL");
        cases.put(recipeWith(base, "cudnnManifest.url", "https://exa mple.com/x"), "not a valid URL");
        cases.put(recipeWith(base, "ortJar.sha256", "abc"), "no valid ortJar.sha256");
        cases.put(recipeWith(base, "cudaManifest.sha256", null), "has no pinned SHA-256 for cudaManifest");
        cases.put(recipeWith(base, "cudnnManifest", null), "has no cudnnManifest");
        cases.put(recipeWith(base, "cudaComponents", List.of("cuda_cudart", "libnvjpeg")), "unknown component 'libnvjpeg'");
        cases.put(recipeWith(base, "cudaComponents", null), "has no cudaComponents");
        cases.put(recipeWith(base, "cudnnVariant", null), "has no cudnnVariant");
        Path notJson = tmp.resolve("not.json");
        Files.writeString(notJson, "cudaManifest: x");
        cases.put(notJson, "is not a readable recipe");
        for (Map.Entry<Path, String> c : cases.entrySet()) {
            CliRun install = cli("gpu", "install", "--yes", "--recipe", c.getKey().toString());
            assertEquals(Cli.EXIT_USAGE, install.exit(), c.getValue() + ": " + install.err());
            assertTrue(install.err().contains(c.getValue()) && !install.err().contains("unexpected failure"),
                    "expected '" + c.getValue() + "' in: " + install.err());
        }
        assertTrue(requested.isEmpty(), "nothing is fetched for a bad recipe: " + requested);
    }

    @Test
    void anUnreachableServerIsDescribedNotNull() throws Exception {
        Path recipe = recipe();
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path closed = recipeWith(recipe, "cudaManifest.url", "http://127.0.0.1:" + port + "/cuda/redistrib_12.6.3.json");
        CliRun install = cli("gpu", "install", "--yes", "--recipe", closed.toString());
        assertEquals(1, install.exit());
        assertTrue(install.err().contains("cannot reach 127.0.0.1 (") && !install.err().contains("(null)"), install.err());
    }

    @Test
    void theStandardRecipePinsEveryDocumentItTrusts() throws GpuPackException {
        GpuPackRecipe standard = GpuPackRecipe.standard();
        standard.validate();
        for (String url : List.of(standard.ortJar().url(), standard.cudaManifest().url(), standard.cudnnManifest().url())) {
            assertTrue(url.startsWith("https://"), url);
        }
        assertTrue(standard.cudaManifest().sha256().matches("[0-9a-f]{64}"));
        assertTrue(standard.cudnnManifest().sha256().matches("[0-9a-f]{64}"));
    }

    @Test
    void installVerifiesEverythingAndIsUsedAtTheNextStart() throws Exception {
        Path recipe = recipe();
        CliRun install = cli("gpu", "install", "--yes", "--recipe", recipe.toString());
        assertEquals(0, install.exit(), install.out() + install.err());
        assertTrue(install.out().contains("download: "), install.out());

        Path gpu = tmp.resolve("userdata/data/gpu");
        Path pack = gpu.resolve("pack");
        for (String lib : Platform.LINUX.cudaLibraries()) {
            assertTrue(Files.isRegularFile(pack.resolve("cuda").resolve(lib)) && !Files.isSymbolicLink(pack.resolve("cuda").resolve(lib)), lib);
        }
        assertEquals(Files.readString(tmp.resolve("build/cuda_cudart-linux-x86_64-12.6.77-archive/lib/libcudart.so.12.6.77")),
                Files.readString(pack.resolve("cuda/libcudart.so.12")));
        assertTrue(Files.isRegularFile(pack.resolve("cuda/libcudnn_engines_precompiled.so.9")));
        assertFalse(Files.exists(pack.resolve("cuda/libunrelated_static.a")));
        assertFalse(Files.exists(pack.resolve("ort/libonnxruntime_providers_tensorrt.so")));
        assertArrayEquals("native linux-x64/libonnxruntime.so".getBytes(StandardCharsets.UTF_8),
                Files.readAllBytes(pack.resolve("ort/libonnxruntime.so")));
        assertTrue(Files.readString(pack.resolve("licenses/cudnn-LICENSE.txt")).contains("NVIDIA licence"));
        GpuPack installed = GpuPack.find(gpu).orElseThrow();
        assertTrue(installed.damaged().isEmpty());
        for (GpuPack.InstalledFile f : installed.manifest().files()) {
            assertEquals(f.sha256(), ContentHash.sha256Of(pack.resolve(f.path())), f.path());
        }
        try (var left = Files.list(gpu)) {
            assertEquals(List.of("pack"), left.map(p -> p.getFileName().toString()).toList(), "no staging or downloads left");
        }

        // the next start: a new JVM points ONNX Runtime and the CUDA probe at the pack
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-D" + AppDirs.PROPERTY + "=" + tmp.resolve("userdata"), "-cp", System.getProperty("java.class.path"),
                "dev.sd3studio.app.Main", "gpu", "status"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("GPU pack: installed in " + pack), out);
        assertTrue(out.contains("used at start: ONNX Runtime natives from " + pack.resolve("ort")), out);
        assertTrue(out.contains("CUDA libraries from " + pack.resolve("cuda")), out);
        assertTrue(out.contains("found (GPU pack) " + pack.resolve("cuda/libcudart.so.12")), out);
    }

    @Test
    void aCorruptArchiveInstallsNothing() throws Exception {
        Path recipe = recipe();
        String cufft = "cuda/libcufft/linux-x86_64/libcufft-linux-x86_64-12.6.77-archive.tar.xz";
        byte[] good = Files.readAllBytes(www.resolve(cufft));
        byte[] bad = good.clone();
        bad[bad.length / 2] ^= 1;
        corrupt.put(cufft, bad);
        CliRun install = cli("gpu", "install", "--yes", "--recipe", recipe.toString());
        assertEquals(1, install.exit());
        assertTrue(install.err().contains("SHA-256") && install.err().contains("nothing was installed"), install.err());
        Path gpu = tmp.resolve("userdata/data/gpu");
        assertFalse(Files.exists(gpu.resolve("pack")));
        try (var left = Files.list(gpu)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().startsWith(".staging")));
        }
        // the good downloads are kept, so the next attempt fetches only what failed
        corrupt.clear();
        CliRun again = cli("gpu", "install", "--yes", "--recipe", recipe.toString());
        assertEquals(0, again.exit(), again.err());
        assertTrue(GpuPack.find(gpu).isPresent());
    }

    @Test
    void theRecipeFollowsTheOnnxRuntimeWeBuildWith() throws IOException {
        String pom = Files.readString(Path.of("../pom.xml"));
        assertTrue(pom.contains("<onnxruntime.version>" + GpuPackRecipe.ORT_VERSION + "</onnxruntime.version>"));
        assertTrue(GpuPackRecipe.standard().ortJar().url().contains("/" + GpuPackRecipe.ORT_VERSION + "/"));
    }
}
