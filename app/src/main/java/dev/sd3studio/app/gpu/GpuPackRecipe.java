package dev.sd3studio.app.gpu;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sd3studio.app.hub.HubClient;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the GPU pack is made of and where each part comes from. ONNX Runtime's GPU natives are
 * taken from the {@code onnxruntime_gpu} jar on Maven Central (the version the app is built with,
 * its SHA-256 pinned here); the CUDA 12 and cuDNN 9 runtime libraries from NVIDIA's per-library
 * redistributable archives, whose SHA-256s come from NVIDIA's release manifests, themselves pinned
 * here by SHA-256, so every byte that ends up loaded rests on a hash in this file. A recipe file
 * ({@code gpu install --recipe FILE}) can point at a mirror with the same files; it is checked
 * field by field, and its URLs must be https (plain http only for a mirror on this computer).
 */
public record GpuPackRecipe(String ortVersion, Artifact ortJar, PinnedManifest cudaManifest, List<String> cudaComponents,
                            PinnedManifest cudnnManifest, String cudnnVariant) {
    /** A file with a pinned size and SHA-256. */
    public record Artifact(String url, long size, String sha256) {
    }

    /** NVIDIA's release manifest ({@code redistrib_*.json}) and the SHA-256 it must have before its hashes are used. */
    public record PinnedManifest(String url, String sha256) {
    }

    /** Must match {@code onnxruntime.version} in the parent pom (a test checks it). */
    public static final String ORT_VERSION = "1.29.0";

    /** The NVIDIA components the pack knows how to take libraries from (see {@link Platform#libraries}). */
    public static final Set<String> CUDA_COMPONENTS = Set.of("cuda_cudart", "libcublas", "libcurand", "libcufft");

    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");

    /**
     * The manifests' SHA-256s could not be fetched from the build machine (no access to NVIDIA's
     * server). They are the values OpenXLA pins for the same files in its hermetic CUDA build
     * ({@code third_party/gpus/cuda/hermetic/cuda_redist_versions.bzl}, checked by Bazel on every
     * download there); the CUDA one (49,142 bytes) is quoted identically by other projects that
     * measured it. A mismatch makes the install refuse, never trust the manifest.
     */
    public static GpuPackRecipe standard() {
        return new GpuPackRecipe(ORT_VERSION,
                new Artifact("https://repo1.maven.org/maven2/com/microsoft/onnxruntime/onnxruntime_gpu/" + ORT_VERSION
                        + "/onnxruntime_gpu-" + ORT_VERSION + ".jar", 642_295_340L,
                        "fe39a98c499fc9be3944dd2bf2fb77d7dc5f152668bf95d8beb1c3d7b22f2a89"),
                new PinnedManifest("https://developer.download.nvidia.com/compute/cuda/redist/redistrib_12.6.3.json",
                        "9c598598457a6463eb92889080c16b2b9dc04150e501b8bfc1536d403ba70aaf"),
                List.of("cuda_cudart", "libcublas", "libcurand", "libcufft"),
                new PinnedManifest("https://developer.download.nvidia.com/compute/cudnn/redist/redistrib_9.5.1.json",
                        "a5484eef575bbb1fd4f96136cf12244ebc194b661f5ae9ed3b8aaa07e06434b1"),
                "cuda12");
    }

    /** Reads and checks a recipe file; every problem is a message naming the field. */
    public static GpuPackRecipe read(Path file) throws GpuPackException {
        GpuPackRecipe r;
        try {
            r = new ObjectMapper().readValue(file.toFile(), GpuPackRecipe.class);
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : HubClient.describe(e);
            throw new GpuPackException("the recipe " + file + " is not a readable recipe (" + why
                    + "); start from the fields of the standard recipe", e);
        }
        if (r == null) {
            throw new GpuPackException("the recipe " + file + " is empty");
        }
        r.validate();
        return r;
    }

    /** Every field present and sensible, before anything is fetched. */
    public void validate() throws GpuPackException {
        if (ortVersion == null) {
            throw invalid("has no ortVersion");
        }
        if (!ORT_VERSION.equals(ortVersion)) {
            throw invalid("is for ONNX Runtime " + ortVersion + ", but this build of SD3 Studio uses " + ORT_VERSION
                    + "; its natives would not fit (set ortVersion " + ORT_VERSION + " and the matching jar)");
        }
        if (ortJar == null) {
            throw invalid("has no ortJar");
        }
        checkUrl("ortJar.url", ortJar.url());
        if (ortJar.size() <= 0) {
            throw invalid("has no ortJar.size (the jar's size in bytes)");
        }
        checkSha256("ortJar.sha256", ortJar.sha256());
        checkManifest("cudaManifest", cudaManifest);
        checkManifest("cudnnManifest", cudnnManifest);
        if (cudaComponents == null || cudaComponents.isEmpty()) {
            throw invalid("has no cudaComponents (for example " + String.join(", ", standard().cudaComponents()) + ")");
        }
        for (String c : cudaComponents) {
            if (!CUDA_COMPONENTS.contains(c)) {
                throw invalid("names the unknown component '" + c + "' in cudaComponents; known: "
                        + String.join(", ", CUDA_COMPONENTS.stream().sorted().toList()));
            }
        }
        if (cudnnVariant == null || cudnnVariant.isBlank()) {
            throw invalid("has no cudnnVariant (cuda12 for CUDA 12)");
        }
    }

    private static void checkManifest(String field, PinnedManifest m) throws GpuPackException {
        if (m == null) {
            throw invalid("has no " + field + " ({\"url\": ..., \"sha256\": ...})");
        }
        checkUrl(field + ".url", m.url());
        if (m.sha256() == null || m.sha256().isBlank()) {
            throw invalid("has no pinned SHA-256 for " + field + " (" + m.url() + "); without it the archives'"
                    + " hashes would rest on an unchecked download. Add " + field + ".sha256");
        }
        checkSha256(field + ".sha256", m.sha256());
    }

    private static void checkSha256(String field, String value) throws GpuPackException {
        if (value == null || !SHA256.matcher(value).matches()) {
            throw invalid("has no valid " + field + " (64 hexadecimal digits)");
        }
    }

    private static void checkUrl(String field, String url) throws GpuPackException {
        if (url == null || url.isBlank()) {
            throw invalid("has no " + field);
        }
        String problem = urlProblem(url);
        if (problem != null) {
            throw invalid("has " + field + " " + url + ", " + problem);
        }
    }

    /**
     * Why the pack will not download from {@code url}, or {@code null}: https only, since the
     * files become native code in this process; plain http only for a mirror on this computer.
     */
    static String urlProblem(String url) {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            return "which is not a valid URL (" + e.getReason() + ")";
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (u.getHost() == null || !(scheme.equals("https") || scheme.equals("http"))) {
            return "which is not an https URL";
        }
        if (scheme.equals("http") && !isLoopback(u.getHost())) {
            return "which is plain http: anyone on the network could replace the files; use https";
        }
        return null;
    }

    private static boolean isLoopback(String host) {
        return host.equals("127.0.0.1") || host.equalsIgnoreCase("localhost") || host.equals("[::1]");
    }

    private static GpuPackException invalid(String what) {
        return new GpuPackException("the GPU pack recipe " + what);
    }

    URI cudaManifestUri() {
        return URI.create(cudaManifest.url());
    }

    URI cudnnManifestUri() {
        return URI.create(cudnnManifest.url());
    }
}
