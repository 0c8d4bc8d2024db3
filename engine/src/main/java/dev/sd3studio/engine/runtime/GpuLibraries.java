package dev.sd3studio.engine.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the GPU libraries come from when the app found or installed them (the GPU pack, or
 * CUDA libraries of a PyTorch installation linked into one folder). Only sets what the user did
 * not set: ONNX Runtime's own {@code onnxruntime.native.path} (read once, when ORT first loads,
 * so this must run before any session is made) and {@link OrtRuntime#CUDA_DIR_PROPERTY}, which
 * {@link CudaProbe} loads the CUDA libraries from.
 */
public final class GpuLibraries {
    public static final String ORT_NATIVE_PATH = "onnxruntime.native.path";

    /** cuDNN 9 opens these by name at run time; loaded first so that the names resolve from our folder. */
    static final List<String> CUDNN_PARTS = List.of("libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9",
            "libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9", "libcudnn_ops.so.9",
            "libcudnn_cnn.so.9", "libcudnn_adv.so.9");

    private GpuLibraries() {
    }

    /** Uses {@code ortNatives} (may be null) and {@code cudaDir} (may be null) unless already configured. */
    public static void use(Path ortNatives, Path cudaDir) {
        if (ortNatives != null && System.getProperty(ORT_NATIVE_PATH) == null) {
            System.setProperty(ORT_NATIVE_PATH, ortNatives.toAbsolutePath().toString());
        }
        if (cudaDir != null && System.getProperty(OrtRuntime.CUDA_DIR_PROPERTY) == null
                && System.getenv("SD3STUDIO_CUDA_DIR") == null) {
            System.setProperty(OrtRuntime.CUDA_DIR_PROPERTY, cudaDir.toAbsolutePath().toString());
        }
    }

    /** Loads cuDNN's parts from {@code dir} before CUDA starts; parts that are absent or fail are left to cuDNN. */
    static void preloadCudnnParts(Path dir) {
        if (dir == null || System.getProperty("os.name", "").toLowerCase().contains("win")) {
            return;
        }
        for (String part : CUDNN_PARTS) {
            Path lib = dir.resolve(part);
            if (Files.isRegularFile(lib)) {
                try {
                    System.load(lib.toAbsolutePath().toString());
                } catch (UnsatisfiedLinkError ignored) {
                    // CudaProbe names what is missing; cuDNN reports its own parts when it needs them
                }
            }
        }
    }
}
