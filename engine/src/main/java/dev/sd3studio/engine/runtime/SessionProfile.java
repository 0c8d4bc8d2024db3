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
 *   <li>Every component keeps fp16 weights in fp16. The CPU provider has no fp16 MatMul on x86, and
 *       by default ORT's {@value #WIDEN_FP16_INITIALIZERS} stores every fp16 weight as a float32 copy
 *       at session creation: the 4.6 GiB SD3.5 Medium MMDiT peaked at 8.3 GiB. With it switched off,
 *       {@link Fp16CpuGraph} widens each weight per call, right before the node that uses it
 *       (README, "Full-size proof"). CUDA runs fp16 natively and gets the export as it is.</li>
 * </ul>
 * For measurements, {@code -Dsd3studio.ort.arena=all|none|default},
 * {@code -Dsd3studio.ort.prepack=all|none|default} and {@code -Dsd3studio.ort.fp16weights=keep|ort|widen} (ort: fp16 kept, casts placed by ORT, no rewrite)
 * override the per-component choice.
 */
record SessionProfile(String component, boolean prepack, boolean arena, boolean keepFp16Weights,
                      boolean rewriteFp16Graphs) {
    /** ORT's name for the graph transformer that turns fp16 weights feeding float32 nodes into float32 copies. */
    static final String WIDEN_FP16_INITIALIZERS = "FuseFp16InitializerToFp32NodeTransformer";
    static final String DISABLED_OPTIMIZERS = "optimization.disable_specified_optimizers";

    static SessionProfile of(String component) {
        boolean textEncoder = component.startsWith("text_encoder");
        boolean transformer = component.equals("transformer");
        boolean prepack = override("sd3studio.ort.prepack", !textEncoder);
        boolean arena = override("sd3studio.ort.arena", transformer);
        String fp16 = System.getProperty("sd3studio.ort.fp16weights", "keep").toLowerCase(Locale.ROOT);
        boolean keepFp16 = !fp16.equals("widen");
        return new SessionProfile(component, prepack, arena, keepFp16, keepFp16 && !fp16.equals("ort"));
    }

    /**
     * The profile of a session with quantized layers: prepacking on even for a text encoder, since
     * MatMulNBits without its packed weights dequantizes them at every call (T5 encoded 3x slower).
     */
    SessionProfile quantized() {
        return new SessionProfile(component, override("sd3studio.ort.prepack", true), arena, keepFp16Weights,
                rewriteFp16Graphs);
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
        if (keepFp16Weights) {
            options.addConfigEntry(DISABLED_OPTIMIZERS, WIDEN_FP16_INITIALIZERS);
        }
    }
}
