package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OrtException;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.nio.file.Path;
import java.util.Locale;

/** Turns ONNX Runtime's exceptions into messages that say what to do. */
public final class OrtErrors {
    private OrtErrors() {
    }

    static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage()).strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    static EngineException onLoad(String component, Path file, OrtException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (isOutOfMemory(m)) {
            return new EngineException(Kind.OUT_OF_MEMORY, component + " does not fit in memory ("
                    + file + "); turn on model offload, drop T5, or use a smaller export.", e);
        }
        return new EngineException(Kind.CORRUPT_FILE, component + " at " + file
                + " is unreadable (corrupt or incomplete download?): " + firstLine(e)
                + ". Download this component again.", e);
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
