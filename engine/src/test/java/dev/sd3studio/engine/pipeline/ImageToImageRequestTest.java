package dev.sd3studio.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.diffusion.TorchCpuGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Strength and size through the real pipeline on the tiny SD3 fixture (64×64 default, at most
 * 256 per side). A missing fixtures directory fails the test, never skips it.
 */
class ImageToImageRequestTest {
    private static Sd3Pipeline pipeline;

    @BeforeAll
    static void open() throws EngineException {
        Path model = Fixtures.model("tiny-sd3");
        assertTrue(Files.isDirectory(model), "missing fixture model " + model);
        pipeline = Sd3Pipeline.open(model, EngineOptions.defaults());
    }

    @AfterAll
    static void close() {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    private static RgbImage grey(int w, int h) {
        float[] rgb = new float[w * h * 3];
        java.util.Arrays.fill(rgb, 0.5f);
        return new RgbImage(w, h, rgb);
    }

    private static GenerationRequest.Builder img2img(double strength, int steps) {
        return GenerationRequest.builder("a cat").optInitImage(grey(64, 64)).optStrength(strength)
                .optSteps(steps).optSize(64, 64).optSeed(1L).optGuidance(1.0);
    }

    @Test
    void strengthZeroIsRefusedWithAClearMessage() {
        EngineException e = assertThrows(EngineException.class,
                () -> pipeline.generate(img2img(0.0, 28).build(), ProgressListener.NONE, CancelToken.none()));
        assertEquals(EngineException.Kind.INVALID_REQUEST, e.kind());
        assertTrue(e.getMessage().contains("strength 0.0 runs no denoising step"), e.getMessage());
        assertTrue(e.getMessage().contains("above 0"), e.getMessage());
        assertFalse(e.getMessage().contains("2147483647"), e.getMessage());
    }

    @Test
    void strengthOutsideZeroToOneIsRefused() {
        for (double s : new double[] {-0.1, 1.01, Double.NaN}) {
            EngineException e = assertThrows(EngineException.class, () -> pipeline.validate(img2img(s, 10).build()));
            assertEquals(EngineException.Kind.INVALID_REQUEST, e.kind());
            assertTrue(e.getMessage().contains("between 0 and 1"), e.getMessage());
        }
    }

    @Test
    void tinyStrengthIsAcceptedAndRunsOneStep() throws EngineException {
        pipeline.validate(img2img(0.01, 28).build());
        pipeline.validate(img2img(0.01, 100).build());
        EngineException e = assertThrows(EngineException.class, () -> pipeline.validate(img2img(1e-300, 100).build()));
        assertTrue(e.getMessage().contains("runs no denoising step"), e.getMessage());
    }

    @Test
    void noSizeTakesTheImagesAspectAtTheModelsPixelCount() throws EngineException {
        GenerationRequest r = GenerationRequest.builder("a cat").optInitImage(grey(400, 300)).optSeed(1L).build();
        GenerationRequest resolved = pipeline.validate(r);
        // √(64²·4/3) = 73.9 → 80, √(64²·3/4) = 55.4 → 48
        assertArrayEquals(new int[] {80, 48}, new int[] {resolved.width(), resolved.height()});
        GenerationRequest pano = pipeline.validate(r.toBuilder().optInitImage(grey(3000, 100)).build());
        assertArrayEquals(new int[] {256, 16}, new int[] {pano.width(), pano.height()});
    }

    /** Runs the tiny model and records what the pipeline reports. */
    private static Map<String, FloatTensor> run(GenerationRequest r) throws EngineException {
        Map<String, FloatTensor> tensors = new HashMap<>();
        pipeline.generate(r, new ProgressListener() {
            @Override
            public void tensor(String name, FloatTensor value) {
                tensors.put(name, value.copy());
            }
        }, CancelToken.none());
        return tensors;
    }

    @Test
    void strengthOneRunsEveryStepFromPureNoise() throws EngineException {
        FloatTensor noise = new TorchCpuGenerator(5).randn(new long[] {1, 16, 8, 8});
        Map<String, FloatTensor> t = run(img2img(1.0, 3).optInitialLatents(noise).optPreviewEvery(0).build());
        assertEquals(3, t.get("timesteps").data().length);
        assertEquals(1000f, t.get("timesteps").data()[0]);
        assertArrayEquals(noise.data(), t.get("initial_latents").data());
    }

    @Test
    void tinyStrengthRunsOnlyTheLastStep() throws EngineException {
        Map<String, FloatTensor> t = run(img2img(0.01, 28).optPreviewEvery(0).build());
        assertEquals(1, t.get("timesteps").data().length);
        float[] all = t.get("scheduler_timesteps").data();
        assertEquals(all[27], t.get("timesteps").data()[0]);
    }
}
