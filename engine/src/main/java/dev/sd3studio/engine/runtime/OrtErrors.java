package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OrtException;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.nio.file.Path;
import java.util.Locale;

/** Turns ONNX Runtime's exceptions into messages that say what to do. */
final class OrtErrors {
    private OrtErrors() {
    }

    static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage()).strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    static EngineException onLoad(String component, Path file, OrtException e) {
        return onLoad(component, file, e, false);
    }

    /**
     * A session that could not be created. With CUDA selected, a device failure (invalid device,
     * driver too old, provider error) is DEVICE_UNAVAILABLE and an operator without a kernel is
     * INCOMPATIBLE_MODEL: neither is a corrupt download. Classified by ORT's error code first,
     * then by the message (checked by reading ORT's CUDA provider messages; no GPU here).
     */
    static EngineException onLoad(String component, Path file, OrtException e, boolean onCuda) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (isOutOfMemory(m)) {
            return new EngineException(Kind.OUT_OF_MEMORY, component + " does not fit in memory ("
                    + file + "); turn on model offload, drop T5, or use a smaller export.", e);
        }
        if (isRefusedExternalData(m)) {
            return new EngineException(Kind.INCOMPATIBLE_MODEL, component + " at " + file + " names data outside"
                    + " its folder, which ONNX Runtime refused for safety: " + firstLine(e) + ". Use a model whose"
                    + " weights all lie in its own folder.", e);
        }
        if (e.getCode() == OrtException.OrtErrorCode.ORT_NOT_IMPLEMENTED || m.contains("could not find an implementation")) {
            return new EngineException(Kind.INCOMPATIBLE_MODEL, component + " at " + file + " uses an operator"
                    + (onCuda ? " the GPU provider" : "") + " has no kernel for: " + firstLine(e)
                    + (onCuda ? ". Run on the CPU, or use an export made for CUDA." : ". Re-export it with standard ONNX operators, or update the app."), e);
        }
        if (onCuda && (e.getCode() == OrtException.OrtErrorCode.ORT_EP_FAIL || isDeviceFailure(m))) {
            return new EngineException(Kind.DEVICE_UNAVAILABLE, "the GPU could not load " + component + ": "
                    + firstLine(e) + ". Check the device number and that the NVIDIA driver supports CUDA 12,"
                    + " or choose the CPU.", e);
        }
        return new EngineException(Kind.CORRUPT_FILE, component + " at " + file
                + " is unreadable (corrupt or incomplete download?): " + firstLine(e)
                + ". Download this component again.", e);
    }

    /**
     * ORT's refusals of an external-data location (ORT 1.29: absolute, "escapes model directory", also
     * through a symlink): a hostile or badly packed model, which downloading again would not fix.
     */
    private static boolean isRefusedExternalData(String m) {
        return m.contains("escapes model directory") || m.contains("escapes working directory")
                || m.contains("absolute path not allowed") || m.contains("external data path validation failed");
    }

    private static boolean isDeviceFailure(String m) {
        return m.contains("cuda") || m.contains("cudnn") || m.contains("cublas") || m.contains("invalid device")
                || m.contains("device ordinal") || m.contains("driver");
    }

    /** A run that failed while its token was not cancelled (cancellation is read from the token, not from here). */
    static EngineException onRun(String component, OrtException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (isOutOfMemory(m)) {
            return new EngineException(Kind.OUT_OF_MEMORY, component + " ran out of memory; use a smaller"
                    + " size or batch, turn on model offload, or drop T5.", e);
        }
        return new EngineException(Kind.INCOMPATIBLE_MODEL, component + " failed to run: " + firstLine(e)
                + ". The export may not match what an SD3 pipeline feeds it.", e);
    }

    private static boolean isOutOfMemory(String m) {
        return m.contains("bad_alloc") || m.contains("bad allocation") || m.contains("failed to allocate")
                || m.contains("out of memory");
    }
}
