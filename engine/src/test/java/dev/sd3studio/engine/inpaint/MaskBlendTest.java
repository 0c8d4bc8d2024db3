package dev.sd3studio.engine.inpaint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.diffusion.TorchCpuGenerator;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The per-step blend (fixtures README §6.4), by formula and against the reference's own step tensors. */
class MaskBlendTest {
    static java.util.List<Path> cases() throws java.io.IOException {
        return Fixtures.inpaintCases();
    }

    /**
     * Replays the reference's blend from its recorded Euler outputs: the re-noised image latents
     * and the blended latents of every step must come out as the reference's (no ONNX involved).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void reproducesTheReferenceBlendAtEveryStep(Path dir) throws Exception {
        int tStart = Fixtures.caseJson(dir).path("t_start").asInt();
        float[] sigmas = Fixtures.tensor(dir, "sigmas").data();
        float[] run = Arrays.copyOfRange(sigmas, tStart, sigmas.length);
        FloatTensor stepOut = Fixtures.tensor(dir, "scheduler_step_out_all_steps");
        FloatTensor proper = Fixtures.tensor(dir, "init_latents_proper_all_steps");
        FloatTensor after = Fixtures.tensor(dir, "latents_all_steps");
        float[] blendSigmas = Fixtures.tensor(dir, "blend_sigmas").data();
        MaskBlend blend = new MaskBlend(Fixtures.tensor(dir, "image_latents"), Fixtures.tensor(dir, "noise"),
                Fixtures.tensor(dir, "mask_latents"), run);
        assertEquals(stepOut.dim(0), blend.steps());
        for (int i = 0; i < blend.steps(); i++) {
            assertEquals(blendSigmas[i], i == blend.steps() - 1 ? 0f : run[i + 1], "σ of step " + (i + 1));
            float[] latents = stepOut.slice(i, i + 1).data().clone();
            FloatTensor x = new FloatTensor(new long[] {1, stepOut.dim(2), stepOut.dim(3), stepOut.dim(4)}, latents);
            FloatTensor used = blend.apply(x, i);
            assertArrayEquals(proper.slice(i, i + 1).data(), used.data(), 1e-6f, "init_latents_proper, step " + (i + 1));
            assertArrayEquals(after.slice(i, i + 1).data(), x.data(), 1e-6f, "latents after step " + (i + 1));
        }
    }

    @Test
    void outsideTheMaskIsTheSameNoiseAtTheSigmaJustReached() {
        float[] sigmas = {1f, 0.75f, 0.5f, 0.25f, 0f};
        FloatTensor z0 = new TorchCpuGenerator(1).randn(new long[] {1, 2, 2, 2});
        FloatTensor noise = new TorchCpuGenerator(2).randn(new long[] {1, 2, 2, 2});
        FloatTensor mask = new FloatTensor(new long[] {1, 1, 2, 2}, new float[] {0, 1, 1, 0});
        MaskBlend blend = new MaskBlend(z0, noise, mask, sigmas);
        for (int i = 0; i < 3; i++) {
            FloatTensor x = new TorchCpuGenerator(10 + i).randn(new long[] {1, 2, 2, 2});
            float[] before = x.data().clone();
            blend.apply(x, i);
            float s = sigmas[i + 1];
            for (int k = 0; k < 8; k++) {
                boolean repaint = mask.data()[k % 4] == 1f;
                float want = repaint ? before[k] : s * noise.data()[k] + (1f - s) * z0.data()[k];
                assertEquals(want, x.data()[k], 0f, "step " + i + " k " + k);
            }
        }
    }

    /** The last step takes the clean image latents, even where the σ list does not end in 0. */
    @Test
    void lastStepTakesTheCleanImageLatents() {
        float[] sigmas = {0.9f, 0.5f, 0.1f};
        FloatTensor z0 = new TorchCpuGenerator(3).randn(new long[] {1, 1, 2, 2});
        FloatTensor noise = new TorchCpuGenerator(4).randn(new long[] {1, 1, 2, 2});
        MaskBlend blend = new MaskBlend(z0, noise, FloatTensor.zeros(1, 1, 2, 2), sigmas);
        FloatTensor x = new TorchCpuGenerator(5).randn(new long[] {1, 1, 2, 2});
        blend.apply(x, 1);
        assertArrayEquals(z0.data(), x.data(), 0f);
        FloatTensor y = new TorchCpuGenerator(5).randn(new long[] {1, 1, 2, 2});
        blend.apply(y, 0);
        for (int k = 0; k < 4; k++) {
            assertEquals(0.5f * noise.data()[k] + 0.5f * z0.data()[k], y.data()[k], 0f);
        }
    }

    @Test
    void maskBroadcastsOverBatchAndChannelsAndImageOverTheBatch() {
        float[] sigmas = {1f, 0.5f, 0f};
        FloatTensor z0 = new FloatTensor(new long[] {1, 2, 1, 2}, new float[] {1, 2, 3, 4});
        FloatTensor noise = FloatTensor.zeros(2, 2, 1, 2);
        FloatTensor mask = new FloatTensor(new long[] {1, 1, 1, 2}, new float[] {1, 0});
        MaskBlend blend = new MaskBlend(z0, noise, mask, sigmas);
        FloatTensor x = new FloatTensor(new long[] {2, 2, 1, 2}, new float[] {9, 9, 9, 9, 9, 9, 9, 9});
        blend.apply(x, 1);
        assertArrayEquals(new float[] {9, 2, 9, 4, 9, 2, 9, 4}, x.data(), 0f);
    }

    @Test
    void previewShowsTheCleanPictureOutsideTheMask() {
        FloatTensor z0 = new FloatTensor(new long[] {1, 1, 1, 2}, new float[] {-1, -2});
        FloatTensor mask = new FloatTensor(new long[] {1, 1, 1, 2}, new float[] {0, 1});
        MaskBlend blend = new MaskBlend(z0, new FloatTensor(new long[] {1, 1, 1, 2}, new float[] {5, 5}), mask,
                new float[] {1f, 0f});
        FloatTensor denoised = new FloatTensor(new long[] {1, 1, 1, 2}, new float[] {7, 8});
        assertArrayEquals(new float[] {-1, 8}, blend.previewOf(denoised).data(), 0f);
        assertArrayEquals(new float[] {7, 8}, denoised.data(), 0f, "input left as it was");
        assertTrue(blend.steps() == 1);
    }
}
