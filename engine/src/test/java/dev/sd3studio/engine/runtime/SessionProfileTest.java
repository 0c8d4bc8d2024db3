package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-component choices reach ONNX Runtime as the options measured for them. */
class SessionProfileTest {
    private static final List<String> COMPONENTS = List.of("text_encoder", "text_encoder_2", "text_encoder_3",
            "transformer", "vae_decoder", "vae_encoder", "taesd_decoder");

    /** Without it, the CPU provider stores every fp16 weight of an fp16 export a second time, as float32. */
    @Test
    void everyComponentKeepsFp16WeightsInFp16() throws Exception {
        for (String component : COMPONENTS) {
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                SessionProfile profile = SessionProfile.of(component);
                assertTrue(profile.rewriteFp16Graphs(), component);
                profile.applyTo(options);
                assertEquals(SessionProfile.WIDEN_FP16_INITIALIZERS,
                        options.getConfigEntries().get("optimization.disable_specified_optimizers"), component);
            }
        }
    }

    @Test
    void widenPutsOrtsDefaultBackForMeasurements() throws Exception {
        String before = System.getProperty("sd3studio.ort.fp16weights");
        System.setProperty("sd3studio.ort.fp16weights", "widen");
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            SessionProfile profile = SessionProfile.of("transformer");
            assertFalse(profile.keepFp16Weights());
            assertFalse(profile.rewriteFp16Graphs());
            profile.applyTo(options);
            assertNull(options.getConfigEntries().get("optimization.disable_specified_optimizers"));
        } finally {
            if (before == null) {
                System.clearProperty("sd3studio.ort.fp16weights");
            } else {
                System.setProperty("sd3studio.ort.fp16weights", before);
            }
        }
    }

    @Test
    void textEncodersNeitherPrepackNorKeepAnArena() throws Exception {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            SessionProfile profile = SessionProfile.of("text_encoder_3");
            profile.applyTo(options);
            assertEquals("1", options.getConfigEntries().get("session.disable_prepacking"));
            assertFalse(profile.arena());
        }
    }
}
