package dev.sd3studio.app.gpu;

import java.util.Locale;
import java.util.regex.Pattern;

/** The names the GPU files have on this OS: NVIDIA's platform key, ORT's native folder, library names. */
public enum Platform {
    LINUX("linux-x86_64", "linux-x64"),
    WINDOWS("windows-x86_64", "win-x64");

    private final String nvidiaKey;
    private final String ortFolder;

    Platform(String nvidiaKey, String ortFolder) {
        this.nvidiaKey = nvidiaKey;
        this.ortFolder = ortFolder;
    }

    public static Platform current() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("win") ? WINDOWS : LINUX;
    }

    public String nvidiaKey() {
        return nvidiaKey;
    }

    /** Where the natives sit inside the ORT jar. */
    public String ortJarFolder() {
        return "ai/onnxruntime/native/" + ortFolder + "/";
    }

    /** ORT's natives the pack takes (TensorRT's provider is left out: it needs TensorRT itself). */
    public boolean isOrtNative(String name) {
        return this == LINUX
                ? Pattern.matches("lib(onnxruntime|onnxruntime4j_jni|onnxruntime_providers_shared|onnxruntime_providers_cuda)\\.so", name)
                : Pattern.matches("(onnxruntime|onnxruntime4j_jni|onnxruntime_providers_shared|onnxruntime_providers_cuda)\\.dll", name);
    }

    /** The runtime libraries the pack takes from one NVIDIA component, as the loader asks for them. */
    public Pattern libraries(String component) {
        String linux = switch (component) {
            case "cuda_cudart" -> "libcudart\\.so\\.12";
            case "libcublas" -> "libcublas(Lt)?\\.so\\.12";
            case "libcurand" -> "libcurand\\.so\\.10";
            case "libcufft" -> "libcufft\\.so\\.11";
            case "cudnn" -> "libcudnn(_[a-z_]+)?\\.so\\.9";
            default -> throw new IllegalArgumentException("unknown NVIDIA component " + component);
        };
        String windows = switch (component) {
            case "cuda_cudart" -> "cudart64_12\\.dll";
            case "libcublas" -> "cublas(Lt)?64_12\\.dll";
            case "libcurand" -> "curand64_10\\.dll";
            case "libcufft" -> "cufft64_11\\.dll";
            default -> "cudnn(_[a-z_]+)?64_9\\.dll";
        };
        return Pattern.compile(this == LINUX ? linux : windows);
    }

    /** The libraries the CUDA provider loads, in the order that names the most useful missing one. */
    public java.util.List<String> cudaLibraries() {
        return this == LINUX
                ? java.util.List.of("libcudart.so.12", "libcublasLt.so.12", "libcublas.so.12", "libcurand.so.10",
                "libcufft.so.11", "libcudnn.so.9")
                : java.util.List.of("cudart64_12.dll", "cublasLt64_12.dll", "cublas64_12.dll", "curand64_10.dll",
                "cufft64_11.dll", "cudnn64_9.dll");
    }
}
