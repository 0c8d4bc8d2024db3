package dev.sd3studio.engine.api;

import dev.sd3studio.engine.runtime.OrtRuntime;

import java.util.List;

/**
 * Facts about the engine build for the About dialog and bug reports: which ONNX Runtime is loaded
 * and which execution providers it offers. Loads ONNX Runtime if it is not loaded yet.
 */
public record EngineInfo(String onnxRuntimeVersion, List<String> providers) {
    public static EngineInfo current() {
        try {
            var env = OrtRuntime.environment();
            List<String> providers = ai.onnxruntime.OrtEnvironment.getAvailableProviders().stream()
                    .map(Enum::name)
                    .toList();
            return new EngineInfo(env.getVersion(), providers);
        } catch (RuntimeException | LinkageError e) {
            // a broken native install must not stop the About dialog from opening
            return new EngineInfo("not loaded (" + e.getMessage() + ")", List.of());
        }
    }
}
