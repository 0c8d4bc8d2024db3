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
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.NoiseSlice;
import dev.sd3studio.engine.api.ProgressListener;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Image k of a seeded batch can be made alone: the batch's one noise draw, sliced. */
class BatchSliceTest {
    private static Sd3Pipeline pipeline;

    @BeforeAll
    static void open() throws EngineException {
        pipeline = Sd3Pipeline.open(Fixtures.model("tiny-sd3"), EngineOptions.defaults());
    }

    @AfterAll
    static void close() {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    private static GenerationRequest.Builder request() {
        return GenerationRequest.builder("a cat").optSteps(3).optSize(64, 64).optSeed(11L).optGuidance(2.0);
    }

    private static float[] image(GenerationResult r, int k) {
        return r.image(k).rgb();
    }

    @Test
    void imageKOfABatchIsReproducedAlone() throws EngineException {
        GenerationResult batch = pipeline.generate(request().optImagesPerPrompt(3).build(), ProgressListener.NONE,
                CancelToken.none());
        GenerationResult second = pipeline.generate(request().optNoiseSlice(new NoiseSlice(3, 2)).build(),
                ProgressListener.NONE, CancelToken.none());
        GenerationResult alone = pipeline.generate(request().build(), ProgressListener.NONE, CancelToken.none());
        assertEquals(1, second.count());
        assertArrayEquals(image(batch, 2), image(second, 0), "bit for bit");
        assertArrayEquals(image(batch, 0), image(alone, 0), "image 0 of a batch is the single picture");
        assertFalse(Arrays.equals(image(batch, 0), image(batch, 2)), "the batch's pictures differ");
        assertEquals(new NoiseSlice(3, 2), second.resolved().noiseSlice(), "the slice is part of what reproduces it");
    }

    @Test
    void aSliceNeedsABatchOfOne() {
        EngineException e = assertThrows(EngineException.class, () -> pipeline.validate(
                request().optImagesPerPrompt(2).optNoiseSlice(new NoiseSlice(4, 1)).build()));
        assertTrue(e.getMessage().contains("one prompt and one image"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new NoiseSlice(2, 2));
    }
}
