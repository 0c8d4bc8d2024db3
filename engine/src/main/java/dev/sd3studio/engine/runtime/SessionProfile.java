package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.util.Locale;

/**
 * Session options per component, chosen by measurement on a mid-size SD3 network (README, "Engine
 * session options"):
 * <ul>
 *   <li>Text encoders run once per generation: weight prepacking off (it copies every MatMul weight
 *       into a packed duplicate, doubling resident weights and slowing creation for one run) and no
 *       memory arena (an arena keeps its activation peak for the session's whole life).</li>
 *   <li>The transformer runs every step: prepacking and the arena on, since it reuses both.</li>
 *   <li>The VAE runs once: arena off so its large activation peak goes back when the decode is done;
 *       graph optimization ALL kept (EXTENDED measured 1.29× slower).</li>
 * </ul>
 * For measurements, {@code -Dsd3studio.ort.arena=all|none|default} and
 * {@code -Dsd3studio.ort.prepack=all|none|default} override the per-component choice.
 */
record SessionProfile(String component, boolean prepack, boolean arena) {
    static SessionProfile of(String component) {
        boolean textEncoder = component.startsWith("text_encoder");
        boolean transformer = component.equals("transformer");
        boolean prepack = override("sd3studio.ort.prepack", !textEncoder);
        boolean arena = override("sd3studio.ort.arena", transformer);
        return new SessionProfile(component, prepack, arena);
    }

    private static boolean override(String property, boolean chosen) {
        return switch (System.getProperty(property, "default").toLowerCase(Locale.ROOT)) {
            case "all" -> true;
            case "none" -> false;
            default -> chosen;
        };
    }

    void applyTo(OrtSession.SessionOptions options) throws OrtException {
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        options.setCPUArenaAllocator(arena);
        if (!prepack) {
            options.addConfigEntry("session.disable_prepacking", "1");
        }
    }
}
