package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.ModelCopies;
import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.runtime.OnnxTestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NaN from the VAE encoder is named as the encoder's, not blamed on the transformer after step 1. */
class EncoderBlameTest {
    private static final Path DEMO = Path.of("../assets/models/sd3-demo").toAbsolutePath().normalize();

    @Test
    void nanFromTheVaeEncoderNamesTheEncoder(@TempDir Path tmp) throws Exception {
        Path model = ModelCopies.withFile(DEMO, tmp.resolve("m"), "vae_encoder/model.onnx", new byte[0]);
        OnnxTestModels.constantEncoder(model.resolve("vae_encoder/model.onnx"), Float.NaN);
        try (Sd3Generator g = Sd3Engine.open(model, EngineOptions.defaults())) {
            GenerationRequest r = GenerationRequest.builder("a red circle").optSteps(2).optSeed(1L)
                    .optInitImage(new RgbImage(64, 64, new float[64 * 64 * 3])).optStrength(0.6).build();
            EngineException e = assertThrows(EngineException.class,
                    () -> g.generate(r, ProgressListener.NONE, CancelToken.none()));
            assertEquals(EngineException.Kind.NUMERIC_OVERFLOW, e.kind());
            assertTrue(e.getMessage().contains("VAE encoder"), e.getMessage());
        } finally {
            ModelCopies.unlink(model);
        }
    }
}
