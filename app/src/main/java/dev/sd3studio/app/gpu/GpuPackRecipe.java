package dev.sd3studio.app.gpu;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * What the GPU pack is made of and where each part comes from. ONNX Runtime's GPU natives are
 * taken from the {@code onnxruntime_gpu} jar on Maven Central (the version the app is built with,
 * its SHA-256 pinned here); the CUDA 12 and cuDNN 9 runtime libraries from NVIDIA's per-library
 * redistributable archives, whose SHA-256s come from NVIDIA's release manifests. A recipe file
 * ({@code gpu install --recipe FILE}) can point at a mirror with the same files.
 */
public record GpuPackRecipe(String ortVersion, Artifact ortJar, String cudaManifest, List<String> cudaComponents,
                            String cudnnManifest, String cudnnVariant) {
    /** A file with a pinned size and SHA-256. */
    public record Artifact(String url, long size, String sha256) {
    }

    /** Must match {@code onnxruntime.version} in the parent pom (a test checks it). */
    public static final String ORT_VERSION = "1.29.0";

    public static GpuPackRecipe standard() {
        return new GpuPackRecipe(ORT_VERSION,
                new Artifact("https://repo1.maven.org/maven2/com/microsoft/onnxruntime/onnxruntime_gpu/" + ORT_VERSION
                        + "/onnxruntime_gpu-" + ORT_VERSION + ".jar", 642_295_340L,
                        "fe39a98c499fc9be3944dd2bf2fb77d7dc5f152668bf95d8beb1c3d7b22f2a89"),
                "https://developer.download.nvidia.com/compute/cuda/redist/redistrib_12.6.3.json",
                List.of("cuda_cudart", "libcublas", "libcurand", "libcufft"),
                "https://developer.download.nvidia.com/compute/cudnn/redist/redistrib_9.5.1.json",
                "cuda12");
    }

    public static GpuPackRecipe read(Path file) throws IOException {
        return new ObjectMapper().readValue(file.toFile(), GpuPackRecipe.class);
    }

    URI cudaManifestUri() {
        return URI.create(cudaManifest);
    }

    URI cudnnManifestUri() {
        return URI.create(cudnnManifest);
    }
}
