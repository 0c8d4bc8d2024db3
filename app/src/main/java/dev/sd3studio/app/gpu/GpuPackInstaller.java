package dev.sd3studio.app.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sd3studio.app.hub.ContentHash;
import dev.sd3studio.app.hub.DownloadControl;
import dev.sd3studio.app.hub.DownloadProgress;
import dev.sd3studio.app.hub.HubClient;
import dev.sd3studio.app.hub.HubException;
import dev.sd3studio.app.hub.HubSettings;
import dev.sd3studio.app.hub.TransferProgress;
import dev.sd3studio.app.hub.VerifiedDownload;
import dev.sd3studio.engine.api.AtomicFiles;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Installs the GPU pack: reads NVIDIA's release manifests for the archives' sizes and SHA-256s,
 * downloads (resumably) and verifies every archive, extracts the runtime files into a staging
 * folder, hashes each installed file into {@code pack.json}, and only then renames the staging
 * folder to {@code gpu/pack}. A failure at any point leaves the previous state (no pack, or the
 * old pack) and keeps finished downloads for the next attempt.
 */
public final class GpuPackInstaller {
    /** NVIDIA's manifests are about 50 KB; a server sending more is not sending one. */
    private static final int MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
    private final Path gpuHome;
    /** The Hub's HTTP client without a token: redirects checked, errors described, nothing sent but GETs. */
    private final HubClient http = new HubClient(new HubSettings(URI.create(HubSettings.DEFAULT_ENDPOINT),
            Optional.empty(), "none"));
    private final VerifiedDownload transfer;
    private final ObjectMapper json = new ObjectMapper();

    public GpuPackInstaller(Path gpuHome) {
        this(gpuHome, 5, Duration.ofSeconds(2));
    }

    GpuPackInstaller(Path gpuHome, int attempts, Duration backoff) {
        this.gpuHome = gpuHome;
        this.transfer = new VerifiedDownload(attempts, backoff, Duration.ofSeconds(60), "run gpu install again to resume");
    }

    /** One file to download. {@code component} is the NVIDIA component, or {@code onnxruntime}. */
    public record Item(String component, String version, URI url, long size, String sha256, String licence) {
        String fileName() {
            String p = url.getPath();
            return p.substring(p.lastIndexOf('/') + 1);
        }
    }

    /** What an install will download, with the sizes the publishers state. */
    public record Plan(GpuPackRecipe recipe, Platform platform, String cudaRelease, String cudnnRelease, List<Item> items) {
        public long bytes() {
            return items.stream().mapToLong(Item::size).sum();
        }
    }

    public Plan plan(GpuPackRecipe recipe, Platform platform) throws GpuPackException {
        recipe.validate();
        List<Item> items = new ArrayList<>();
        items.add(new Item("onnxruntime", recipe.ortVersion(), URI.create(recipe.ortJar().url()), recipe.ortJar().size(),
                recipe.ortJar().sha256(), "MIT (ONNX Runtime)"));
        JsonNode cuda = manifest(recipe.cudaManifest());
        for (String component : recipe.cudaComponents()) {
            items.add(item(recipe.cudaManifestUri(), cuda, component, cuda.path(component).path(platform.nvidiaKey())));
        }
        JsonNode cudnn = manifest(recipe.cudnnManifest());
        items.add(item(recipe.cudnnManifestUri(), cudnn, "cudnn",
                cudnn.path("cudnn").path(platform.nvidiaKey()).path(recipe.cudnnVariant())));
        return new Plan(recipe, platform, cuda.path("release_label").asText("?"), cudnn.path("release_label").asText("?"),
                List.copyOf(items));
    }

    /** The manifest, read only once its SHA-256 is the recipe's pin: its hashes are what the archives are checked against. */
    private JsonNode manifest(GpuPackRecipe.PinnedManifest pinned) throws GpuPackException {
        URI uri = URI.create(pinned.url());
        byte[] body;
        try {
            body = http.fetchSmall(uri, MAX_MANIFEST_BYTES);
        } catch (HubException e) {
            throw new GpuPackException(e.getMessage(), e);
        }
        byte[] digest = ContentHash.Algorithm.SHA256.start(body.length).digest(body);
        String got = HexFormat.of().formatHex(digest);
        if (!ContentHash.sha256(pinned.sha256()).matches(digest)) {
            throw new GpuPackException("NVIDIA's manifest " + uri + " is not the one this build pins (SHA-256 " + got
                    + ", expected " + pinned.sha256() + "); it may have been changed or tampered with, so its hashes are"
                    + " not used and nothing was downloaded. Try again later, or install with a recipe that pins it");
        }
        try {
            return json.readTree(body);
        } catch (IOException e) {
            throw new GpuPackException(uri + " is not a readable NVIDIA release manifest (" + HubClient.describe(e) + ")", e);
        }
    }

    private static Item item(URI manifest, JsonNode root, String component, JsonNode entry) throws GpuPackException {
        if (!entry.hasNonNull("relative_path") || !entry.hasNonNull("sha256")) {
            throw new GpuPackException("NVIDIA's manifest " + manifest + " has no " + component
                    + " archive for this platform; the GPU pack is not available here");
        }
        String relative = entry.get("relative_path").asText();
        URI url;
        try {
            url = manifest.resolve(relative);
        } catch (IllegalArgumentException e) {
            url = null;
        }
        String problem = url == null ? "which is not a valid URL" : GpuPackRecipe.urlProblem(url.toString());
        if (problem != null) {
            throw new GpuPackException("NVIDIA's manifest " + manifest + " places the " + component + " archive at "
                    + relative + ", " + problem + "; nothing was downloaded");
        }
        JsonNode c = root.path(component);
        return new Item(component, c.path("version").asText("?"), url, entry.path("size").asLong(),
                entry.get("sha256").asText(), c.path("license").asText("NVIDIA"));
    }

    public GpuPack install(Plan plan, Consumer<DownloadProgress> progress) throws GpuPackException {
        Path downloads = gpuHome.resolve("downloads");
        Path staging = gpuHome.resolve(".staging-" + System.nanoTime());
        TransferProgress transferred = new TransferProgress(plan.bytes(), progress);
        try {
            Files.createDirectories(downloads);
            for (Item item : plan.items()) {
                Path file = downloads.resolve(item.fileName());
                ContentHash hash = ContentHash.sha256(item.sha256());
                if (hash.matches(file, item.size())) {
                    transferred.add(item.size()); // kept from an earlier attempt
                    continue;
                }
                transfer.fetch(new VerifiedDownload.Remote(item.fileName(), item.url().toString(),
                        offset -> http.open(item.url(), offset), item.size(), Optional.of(hash)), file,
                        new DownloadControl(), transferred);
            }
            Path ort = Files.createDirectories(staging.resolve("ort"));
            Path cuda = Files.createDirectories(staging.resolve("cuda"));
            Path licences = Files.createDirectories(staging.resolve("licenses"));
            List<GpuPack.Source> sources = new ArrayList<>();
            for (Item item : plan.items()) {
                transferred.emit(DownloadProgress.State.VERIFYING, item.fileName(), "extracting");
                Path file = downloads.resolve(item.fileName());
                if (item.component().equals("onnxruntime")) {
                    ArchiveExtractor.ortJar(file, plan.platform(), ort);
                } else {
                    ArchiveExtractor.nvidia(file, plan.platform().libraries(item.component()), cuda,
                            licences.resolve(item.component() + "-LICENSE.txt"));
                }
                sources.add(new GpuPack.Source(item.url().toString(), item.size(), item.sha256()));
            }
            checkComplete(plan.platform(), ort, cuda);
            Files.writeString(staging.resolve("NOTICE.txt"), notice(plan));
            List<GpuPack.InstalledFile> files = new ArrayList<>();
            try (Stream<Path> walk = Files.walk(staging)) {
                for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                    files.add(new GpuPack.InstalledFile(staging.relativize(p).toString().replace('\\', '/'),
                            Files.size(p), ContentHash.sha256Of(p)));
                }
            }
            GpuPack.Manifest manifest = new GpuPack.Manifest(plan.recipe().ortVersion(), plan.cudaRelease(),
                    plan.cudnnRelease(), plan.platform().nvidiaKey(), sources, files);
            json.enable(SerializationFeature.INDENT_OUTPUT).writeValue(staging.resolve(GpuPack.MANIFEST).toFile(), manifest);
            swapIn(staging);
            AtomicFiles.deleteTreeQuietly(downloads);
        } catch (IOException e) {
            AtomicFiles.deleteTreeQuietly(staging);
            throw new GpuPackException("installing the GPU pack into " + gpuHome + " failed (" + e.getMessage()
                    + "); nothing was changed. Check free space and try again", e);
        } catch (HubException e) {
            AtomicFiles.deleteTreeQuietly(staging);
            throw new GpuPackException(e.getMessage(), e);
        } catch (GpuPackException e) {
            AtomicFiles.deleteTreeQuietly(staging);
            throw e;
        }
        transferred.emit(DownloadProgress.State.DONE, "", null);
        return GpuPack.find(gpuHome).orElseThrow(() -> new GpuPackException("the GPU pack vanished right after installing"));
    }

    private static void checkComplete(Platform platform, Path ort, Path cuda) throws GpuPackException, IOException {
        List<String> missing = new ArrayList<>();
        for (String lib : platform.cudaLibraries()) {
            if (!Files.isRegularFile(cuda.resolve(lib))) {
                missing.add(lib);
            }
        }
        try (Stream<Path> s = Files.list(ort)) {
            if (s.count() < 4) {
                missing.add("ONNX Runtime GPU natives");
            }
        }
        if (!missing.isEmpty()) {
            throw new GpuPackException("the downloaded archives lack " + String.join(", ", missing)
                    + "; nothing was installed (is the recipe for this platform?)");
        }
    }

    private void swapIn(Path staging) throws IOException {
        Path pack = gpuHome.resolve("pack");
        Path old = gpuHome.resolve(".old-" + System.nanoTime());
        if (Files.exists(pack)) {
            Files.move(pack, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(staging, pack, StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.deleteTreeQuietly(old);
    }

    private static String notice(Plan plan) {
        StringBuilder s = new StringBuilder("SD3 Studio GPU pack\n\n");
        s.append("Downloaded by this computer from the publishers; SD3 Studio does not redistribute these files.\n");
        s.append("ONNX Runtime ").append(plan.recipe().ortVersion()).append(" (MIT licence) from Maven Central.\n");
        s.append("NVIDIA CUDA ").append(plan.cudaRelease()).append(" runtime libraries (CUDA Toolkit EULA, the files listed in its")
                .append(" Attachment A) and cuDNN ").append(plan.cudnnRelease()).append(" runtime libraries (cuDNN Software License")
                .append(" Agreement) from developer.download.nvidia.com; their licence texts are in licenses/.\n");
        s.append("They are used only by SD3 Studio, from this private folder, and never put on the system library path.\n\n");
        for (Item i : plan.items()) {
            s.append(i.component()).append(' ').append(i.version()).append("  ").append(i.url()).append("  sha256 ")
                    .append(i.sha256()).append('\n');
        }
        return s.toString();
    }

}
