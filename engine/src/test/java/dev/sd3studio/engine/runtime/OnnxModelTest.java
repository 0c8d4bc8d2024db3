package dev.sd3studio.engine.runtime;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.vae.VaeDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** fp16 exports run with float32 on both sides; broken files and wrong interfaces are named. */
class OnnxModelTest {
    @TempDir
    Path models;

    @Test
    void halfPrecisionIsConvertedAtTheBoundary() throws Exception {
        try (OnnxModel model = OnnxModel.open(new OrtRuntime(Device.CPU, 1), "vae_decoder", OnnxTestModels.fp16Scale(models));
             VaeDecoder decoder = new VaeDecoder(model)) {
            assertTrue(model.isHalf("latent_sample"));
            FloatTensor x = new FloatTensor(new long[] {1, 2, 1, 2}, new float[] {0f, 0.5f, -1.25f, 3f});
            FloatTensor y = decoder.decode(x, CancelToken.none());
            assertArrayEquals(new long[] {1, 2, 1, 2}, y.shape());
            assertArrayEquals(new float[] {1f, 2f, -1.5f, 7f}, y.data(), 1e-3f);
        }
    }

    /** The transformer's per-step output goes into one buffer; each result handed out is its own copy. */
    @Test
    void aPinnedOutputIsWrittenInPlaceAndReadOutAsACopy() throws Exception {
        long[] shape = {1, 2, 1, 2};
        try (OnnxModel model = OnnxModel.open(new OrtRuntime(Device.CPU, 1), "vae_decoder", OnnxTestModels.fp16Scale(models));
             OnnxModel.Output sample = model.output("sample", shape)) {
            FloatTensor first = model.run(java.util.Map.of("latent_sample", new FloatTensor(shape, new float[] {0f, 0.5f, -1.25f, 3f})),
                    java.util.Map.of(), sample, CancelToken.none());
            FloatTensor second = model.run(java.util.Map.of("latent_sample", new FloatTensor(shape, new float[] {1f, 1f, 1f, 1f})),
                    java.util.Map.of(), sample, CancelToken.none());
            assertArrayEquals(new float[] {1f, 2f, -1.5f, 7f}, first.data(), 1e-3f);
            assertArrayEquals(new float[] {3f, 3f, 3f, 3f}, second.data(), 1e-3f);
            EngineException e = assertThrows(EngineException.class, () -> model.output("nope", shape));
            assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, e.kind());
        }
    }

    @Test
    void aMissingInputIsNamedAtLoad() throws Exception {
        try (OnnxModel model = OnnxModel.open(new OrtRuntime(Device.CPU, 1), "transformer", OnnxTestModels.fp16Scale(models))) {
            EngineException e = assertThrows(EngineException.class, () -> model.requireInputs("hidden_states"));
            assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, e.kind());
            assertTrue(e.getMessage().contains("hidden_states") && e.getMessage().contains("latent_sample"), e.getMessage());
        }
    }

    @Test
    void garbageIsReportedAsACorruptFile(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("model.onnx"), "not a model");
        EngineException e = assertThrows(EngineException.class,
                () -> OnnxModel.open(new OrtRuntime(Device.CPU, 1), "text_encoder", file));
        assertEquals(EngineException.Kind.CORRUPT_FILE, e.kind());
        assertTrue(e.getMessage().startsWith("text_encoder"), e.getMessage());
    }

    @Test
    void useAfterCloseIsDetected() throws Exception {
        OnnxModel model = OnnxModel.open(new OrtRuntime(Device.CPU, 1), "vae_decoder", OnnxTestModels.fp16Scale(models));
        model.close();
        assertThrows(IllegalStateException.class, () -> model.run(java.util.Map.of(), java.util.Map.of(),
                java.util.List.of("sample"), CancelToken.none()));
    }
}
