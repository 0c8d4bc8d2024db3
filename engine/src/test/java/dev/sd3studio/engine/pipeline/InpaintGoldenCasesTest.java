package dev.sd3studio.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.diffusion.TorchCpuGenerator;
import dev.sd3studio.engine.image.ImageLoader;
import dev.sd3studio.engine.pipeline.GoldenCasesTest.Recorder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The inpainting goldens end to end through the engine (fixtures README §6): mask, draw order,
 * strength, the blend at every step and the decode with the VAE shift factor — the one deliberate
 * difference from the reference, whose own image is {@code image.npy}.
 */
class InpaintGoldenCasesTest {
    private static final float LATENT_TOL = 2e-4f;
    private static final float IMAGE_TOL = 1e-4f;
    private static Sd3Pipeline pipeline;

    static List<Path> cases() throws IOException {
        return Fixtures.inpaintCases();
    }

    @BeforeAll
    static void open() throws EngineException {
        pipeline = Sd3Pipeline.open(Fixtures.model("tiny-sd3"), EngineOptions.defaults());
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    @Test
    void everyInpaintCaseIsCovered() throws IOException {
        assertEquals(3, cases().size(), "the fixtures list 3 inpainting cases; fewer means a broken checkout");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheReferenceStepByStep(Path dir) throws Exception {
        Recorder rec = new Recorder();
        GenerationResult result = pipeline.generate(Fixtures.request(dir, true), rec, CancelToken.none());
        compare(dir, rec, "mask_preprocessed", 0f);
        compare(dir, rec, "mask_latents", 0f);
        compare(dir, rec, "image_latents", LATENT_TOL);
        compare(dir, rec, "initial_latents", LATENT_TOL);
        compare(dir, rec, "timesteps", 0f);
        int run = (int) Fixtures.tensor(dir, "timesteps").dim(0);
        FloatTensor stepOut = Fixtures.tensor(dir, "scheduler_step_out_all_steps");
        FloatTensor proper = Fixtures.tensor(dir, "init_latents_proper_all_steps");
        FloatTensor after = Fixtures.tensor(dir, "latents_all_steps");
        for (int i = 0; i < run; i++) {
            within(stepOut.slice(i, i + 1), rec.tensors.get("scheduler_step_out_step" + (i + 1)), LATENT_TOL,
                    "Euler output of step " + (i + 1));
            within(proper.slice(i, i + 1), rec.tensors.get("init_latents_proper_step" + (i + 1)), LATENT_TOL,
                    "re-noised image latents of step " + (i + 1));
            within(after.slice(i, i + 1), rec.tensors.get("latents_step" + (i + 1)), LATENT_TOL,
                    "blended latents of step " + (i + 1));
        }
        compare(dir, rec, "latents_final", LATENT_TOL);
        FloatTensor withShift = Fixtures.tensor(dir, "image_decoded_with_shift");
        float err = withShift.maxAbsDifference(result.images());
        System.out.printf("inpaint golden %-24s image max abs error %.2e%n", dir.getFileName(), err);
        assertTrue(err <= IMAGE_TOL, dir.getFileName() + ": image differs by " + err);
        // The reference's own output decodes without the shift; ours must differ from it clearly.
        assertTrue(Fixtures.tensor(dir, "image").maxAbsDifference(result.images()) > 0.1f,
                "decoded like the reference's buggy inpaint decode (no shift factor)");
    }

    /** A seed alone: ε of the image first, then the noise, at every strength including 1.0. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void seedReproducesTheReference(Path dir) throws Exception {
        Recorder rec = new Recorder();
        GenerationResult result = pipeline.generate(Fixtures.request(dir, false), rec, CancelToken.none());
        compare(dir, rec, "noise", 0f);
        float err = Fixtures.tensor(dir, "image_decoded_with_shift").maxAbsDifference(result.images());
        assertTrue(err <= IMAGE_TOL, dir.getFileName() + ": image from the seed differs by " + err);
    }

    /** At strength 1.0 the start is pure noise, and that noise is the generator's second draw. */
    @Test
    void strengthOneStillDrawsTheImageEpsilonFirst() throws Exception {
        Path dir = Fixtures.goldensInpaint().resolve("sd3_inpaint_strength1");
        Recorder rec = new Recorder();
        pipeline.generate(Fixtures.request(dir, false), rec, CancelToken.none());
        long seed = Fixtures.caseJson(dir).path("seed").asLong();
        TorchCpuGenerator g = new TorchCpuGenerator(seed);
        long[] shape = {1, 16, 8, 8};
        FloatTensor first = g.randn(shape);
        FloatTensor second = g.randn(shape);
        assertArrayEquals(second.data(), rec.tensors.get("noise").data(), 0f);
        assertArrayEquals(second.data(), rec.tensors.get("initial_latents").data(), 0f);
        assertTrue(first.maxAbsDifference(rec.tensors.get("noise")) > 1f);
    }

    @Test
    void keepUnmaskedPastesTheStartPictureBackExactly() throws Exception {
        Path dir = Fixtures.goldensInpaint().resolve("sd3_inpaint_strength06");
        GenerationRequest r = Fixtures.request(dir, true).toBuilder().optKeepUnmasked(true).build();
        GenerationResult result = pipeline.generate(r, ProgressListener.NONE, CancelToken.none());
        RgbImage init = r.initImage();
        float[] mask = Fixtures.tensor(dir, "mask_preprocessed").data();
        float[] got = result.images().data();
        FloatTensor plain = Fixtures.tensor(dir, "image_decoded_with_shift");
        int kept = 0;
        for (int p = 0; p < mask.length; p++) {
            for (int c = 0; c < 3; c++) {
                float want = mask[p] == 0f ? init.rgb()[3 * p + c] : plain.data()[3 * p + c];
                assertEquals(want, got[3 * p + c], mask[p] == 0f ? 0f : IMAGE_TOL, "pixel " + p);
            }
            kept += mask[p] == 0f ? 1 : 0;
        }
        assertTrue(kept > 0 && kept < mask.length);
        assertTrue(result.resolved().keepUnmasked());
    }

    @Test
    void aMaskWithoutAStartImageIsRefused() throws Exception {
        RgbImage mask = ImageLoader.load(Fixtures.goldensInpaint().resolve("sd3_inpaint_strength1/mask_image.png"));
        GenerationRequest r = GenerationRequest.builder("a cat").optMask(mask).optSteps(2).optSeed(1L).build();
        EngineException e = assertThrows(EngineException.class, () -> pipeline.validate(r));
        assertEquals(EngineException.Kind.INVALID_REQUEST, e.kind());
        assertTrue(e.getMessage().contains("start image"), e.getMessage());
    }

    @Test
    void theResolvedRequestHoldsTheMaskThatRan() throws Exception {
        Path dir = Fixtures.goldensInpaint().resolve("sd3_inpaint_nonsquare");
        GenerationRequest resolved = pipeline.validate(Fixtures.request(dir, true));
        float[] want = Fixtures.tensor(dir, "mask_preprocessed").data();
        RgbImage m = resolved.mask();
        assertEquals(96, m.width());
        assertEquals(64, m.height());
        for (int p = 0; p < want.length; p++) {
            assertEquals(want[p], m.rgb()[3 * p], 0f);
        }
    }

    private static void compare(Path dir, Recorder rec, String name, float tol) throws IOException {
        within(Fixtures.tensor(dir, name), rec.tensors.get(name), tol, name);
    }

    private static void within(FloatTensor expected, FloatTensor got, float tol, String what) {
        assertTrue(got != null, what + " was not produced");
        assertEquals(expected.data().length, got.data().length, what + " size");
        float err = 0;
        for (int k = 0; k < got.data().length; k++) {
            err = Math.max(err, Math.abs(expected.data()[k] - got.data()[k]));
        }
        assertTrue(err <= tol, what + " differs by " + err + " (tolerance " + tol + ")");
    }
}
