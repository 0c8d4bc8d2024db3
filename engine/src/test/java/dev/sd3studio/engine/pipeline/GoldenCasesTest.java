package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.ProgressListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every golden case of the reference pipeline, end to end through the engine: token ids exactly,
 * embeddings, schedule, latents and the final image within tolerance (the fixtures README measured
 * ≤ 3.2e-5 for a correct replay; any semantic slip is ≥ 1e-3).
 */
class GoldenCasesTest {
    private static final float EMBEDDING_TOL = 1e-4f;
    private static final float LATENT_TOL = 2e-4f;
    private static final float IMAGE_TOL = 1e-4f;
    private static final OpenPipelines PIPELINES = new OpenPipelines();

    static List<Path> cases() throws IOException {
        return Fixtures.cases();
    }

    static Sd3Pipeline pipeline(String model) {
        return PIPELINES.get(model);
    }

    @AfterAll
    static void closeAll() {
        PIPELINES.close();
    }

    /** Records what a dump would write. */
    static final class Recorder implements ProgressListener {
        final Map<String, FloatTensor> tensors = new HashMap<>();
        final Map<String, long[][]> ids = new HashMap<>();

        @Override
        public void tensor(String name, FloatTensor value) {
            tensors.put(name, value.copy());
        }

        @Override
        public void ids(String name, long[][] value) {
            ids.put(name, value);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheReference(Path dir) throws Exception {
        Recorder rec = new Recorder();
        GenerationResult result = pipeline(Fixtures.modelOf(dir)).generate(Fixtures.request(dir, true), rec,
                CancelToken.none());

        for (String name : List.of("clip_l_input_ids", "clip_g_input_ids", "t5_input_ids",
                "negative_clip_l_input_ids", "negative_clip_g_input_ids", "negative_t5_input_ids")) {
            Path file = dir.resolve(name + ".npy");
            if (Files.exists(file)) {
                long[] expected = dev.sd3studio.engine.api.Npy.read(file).toLongs();
                long[][] got = rec.ids.get(name);
                assertTrue(got != null, name + " was not produced");
                assertArrayEquals(expected, flatten(got), name);
            }
        }
        for (String name : List.of("prompt_embeds", "pooled_prompt_embeds", "negative_prompt_embeds",
                "negative_pooled_prompt_embeds")) {
            compareIfPresent(dir, rec, name, EMBEDDING_TOL);
        }
        compareIfPresent(dir, rec, "sigmas", 0f);
        compareIfPresent(dir, rec, "timesteps", 0f);
        compareIfPresent(dir, rec, "latents_step1", LATENT_TOL);
        compareIfPresent(dir, rec, "latents_final", LATENT_TOL);
        compareIfPresent(dir, rec, "vae_decoder_input", LATENT_TOL);
        FloatTensor expected = Fixtures.tensor(dir, "image");
        float err = expected.maxAbsDifference(result.images());
        System.out.printf("golden %-28s image max abs error %.2e%n", dir.getFileName(), err);
        assertTrue(err <= IMAGE_TOL, dir.getFileName() + ": image differs by " + err);
    }

    /** A seed alone reproduces the reference image: our noise is torch's noise. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void seedReproducesTheReference(Path dir) throws Exception {
        GenerationResult result = pipeline(Fixtures.modelOf(dir)).generate(Fixtures.request(dir, false),
                ProgressListener.NONE, CancelToken.none());
        float err = Fixtures.tensor(dir, "image").maxAbsDifference(result.images());
        assertTrue(err <= IMAGE_TOL, dir.getFileName() + ": image from --seed differs by " + err);
    }

    private static void compareIfPresent(Path dir, Recorder rec, String name, float tol) throws IOException {
        Path file = dir.resolve(name + ".npy");
        if (!Files.exists(file)) {
            return;
        }
        FloatTensor expected = Fixtures.tensor(dir, name);
        FloatTensor got = rec.tensors.get(name);
        assertTrue(got != null, name + " was not produced");
        assertArrayEquals(expected.shape(), got.shape(), name + " shape");
        float err = expected.maxAbsDifference(got);
        assertTrue(err <= tol, name + " differs by " + err + " (tolerance " + tol + ")");
    }

    private static long[] flatten(long[][] rows) {
        long[] out = new long[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * rows[0].length, rows[0].length);
        }
        return out;
    }

    @org.junit.jupiter.api.Test
    void everyGoldenCaseIsCovered() throws IOException {
        assertEquals(13, cases().size(), "the fixtures list 13 cases; a missing one means a broken checkout");
    }
}
