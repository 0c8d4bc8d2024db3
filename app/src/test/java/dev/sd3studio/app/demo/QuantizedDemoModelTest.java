package dev.sd3studio.app.demo;

import dev.sd3studio.app.BuiltInModel;
import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.api.WeightPrecision;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo model with quantized weights (issue 23): the same 40 judged prompts as {@link DemoModelTest},
 * generated with the transformer and T5 in 8 and 4 bits. int8 must still draw at least 90 % right;
 * int4's figure is printed (and must stay well above chance). Both quantized components get a cache entry,
 * so the layers really ran quantized.
 */
class QuantizedDemoModelTest {
    @TempDir
    static Path cache;
    private static String before;

    @BeforeAll
    static void useATemporaryCache() {
        before = System.getProperty("sd3studio.quant.cache");
        System.setProperty("sd3studio.quant.cache", cache.toString());
    }

    @AfterAll
    static void restore() {
        if (before == null) {
            System.clearProperty("sd3studio.quant.cache");
        } else {
            System.setProperty("sd3studio.quant.cache", before);
        }
    }

    @Test
    void int8DrawsAtLeastNinetyPercentRight() throws Exception {
        int right = score(WeightPrecision.INT8);
        assertTrue(right >= 36, "int8: " + right + "/40 right");
    }

    @Test
    void int4FigureIsMeasured() throws Exception {
        int right = score(WeightPrecision.INT4);
        // measured 40/40 (the model before: 37/40); a broken int4 path draws blotches and scores near 0, so 70 %
        // tells a working 4-bit model from a broken one without pinning this CPU's rounding
        assertTrue(right >= 28, "int4: " + right + "/40 right");
    }

    private static int score(WeightPrecision weights) throws Exception {
        Path model = BuiltInModel.find().orElseThrow(() -> new AssertionError("the built-in demo model is missing"));
        List<SceneJudge.Scene> scenes = SceneJudge.coveringSet();
        List<String> failures = new ArrayList<>();
        long entriesBefore = entries();
        double guidance = DemoModelTest.recommendedGuidance(model);
        long t0 = System.nanoTime();
        try (Sd3Generator engine = Sd3Engine.open(model, EngineOptions.defaults().withWeights(weights))) {
            for (int i = 0; i < scenes.size(); i++) {
                SceneJudge.Scene s = scenes.get(i);
                GenerationResult r = engine.generate(GenerationRequest.builder(s.prompt()).optSeed(1000L + i)
                        .optGuidance(guidance).optPreviewEvery(0).build(), ProgressListener.NONE, CancelToken.none());
                List<String> wrong = SceneJudge.colourAndPlace(SceneJudge.judge(r.image(0), s)); // as DemoModelTest
                if (!wrong.isEmpty()) {
                    failures.add(SceneJudge.describe(s, wrong));
                }
            }
        }
        int right = scenes.size() - failures.size();
        System.out.printf("demo model, --weights %s: %d/%d prompts right (%.1f s)%n", weights.label(), right,
                scenes.size(), (System.nanoTime() - t0) / 1e9);
        failures.forEach(f -> System.out.println("  wrong: " + f));
        assertEquals(entriesBefore + 2, entries(), "transformer and T5 each got a cache entry at " + weights.label());
        assertEquals(40, scenes.size());
        return right;
    }

    private static long entries() throws java.io.IOException {
        try (var files = Files.list(cache)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".sd3q")).count();
        }
    }
}
