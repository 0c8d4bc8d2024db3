package dev.sd3studio.engine.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Finds out, before ONNX Runtime tries, which library the CUDA execution provider would fail to
 * load. ORT only logs the real reason, so we open each library it needs ourselves, in the order
 * that makes the message most useful: the driver first, then the CUDA 12 runtime, then cuDNN 9.
 */
public final class CudaProbe {
    /** The libraries onnxruntime_gpu 1.29's CUDA provider needs, per platform. */
    static final List<String> LINUX = List.of("libcuda.so.1", "libcudart.so.12", "libcublasLt.so.12",
            "libcublas.so.12", "libcurand.so.10", "libcufft.so.11", "libcudnn.so.9");
    static final List<String> WINDOWS = List.of("nvcuda.dll", "cudart64_12.dll", "cublasLt64_12.dll",
            "cublas64_12.dll", "curand64_10.dll", "cufft64_11.dll", "cudnn64_9.dll");

    private CudaProbe() {
    }

    /**
     * The first library that cannot be loaded, with a hint, or empty when all load. Libraries in
     * {@code extraDir} (the user's CUDA folder, if set) are loaded from there first.
     */
    public static Optional<String> firstMissing(Path extraDir) {
        boolean windows = System.getProperty("os.name", "").toLowerCase().contains("win");
        List<String> libs = windows ? WINDOWS : LINUX;
        for (String lib : libs) {
            if (!loads(lib, extraDir)) {
                String hint = lib.startsWith("libcuda.") || lib.equals("nvcuda.dll")
                        ? "the NVIDIA driver is not installed or not visible"
                        : lib.contains("cudnn") ? "install cuDNN 9 for CUDA 12"
                        : "install the CUDA 12 runtime libraries";
                return Optional.of(lib + " could not be loaded (" + hint + ")");
            }
        }
        return Optional.empty();
    }

    private static boolean loads(String lib, Path extraDir) {
        if (extraDir != null && Files.isRegularFile(extraDir.resolve(lib))) {
            try {
                // Loaded for good: ORT's provider then finds it by soname.
                System.load(extraDir.resolve(lib).toAbsolutePath().toString());
                return true;
            } catch (UnsatisfiedLinkError e) {
                return false;
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup(lib, arena);
            return true;
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return false;
        }
    }
}
