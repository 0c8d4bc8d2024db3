package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.lora.LoraTestFiles;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Skip-layer guidance end to end: the diffusers goldens (fixtures README §9), the refusal of blocks the
 * model does not have, nothing extra without CFG, the rewired session replacing the plain one (never
 * beside it), and its composition with LoRA and batches.
 */
class SkipLayerGuidanceTest {
    /** The reference's tolerance for this check; leaving the extra pass out moves the images by ≥ 0.015. */
    private static final float IMAGE_TOL = 1e-3f;
    private static final OpenPipelines PIPELINES = new OpenPipelines();

    static List<Path> cases() throws IOException {
        return Fixtures.slgCases();
    }

    static Sd3Pipeline pipeline(String model) {
        return PIPELINES.get(model);
    }

    @AfterAll
    static void closeAll() {
        PIPELINES.close();
    }

    private static Path slgCase(String name) {
        return Fixtures.goldensSlg().resolve(name);
    }

    private static float[] image(String model, GenerationRequest r, LoraGoldensTest.Recorder rec) throws EngineException {
        return pipeline(model).generate(r, rec, CancelToken.none()).images().data();
    }

    private static float maxDiff(float[] a, float[] b) {
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheReference(Path dir) throws Exception {
        String model = Fixtures.modelOf(dir);
        LoraGoldensTest.Recorder rec = new LoraGoldensTest.Recorder();
        float[] got = image(model, Fixtures.request(dir, true), rec);
        float[] ref = Fixtures.tensor(dir, "image").data();
        float err = maxDiff(got, ref);
        assertTrue(err <= IMAGE_TOL, dir.getFileName() + ": max abs error " + err);
        FloatTensor latents = Fixtures.tensor(dir, "latents_final");
        float latentErr = maxDiff(rec.tensors.get("latents_final").data(), latents.data());
        assertTrue(latentErr <= IMAGE_TOL, dir.getFileName() + ": latents " + latentErr);
        assertTrue(rec.warnings.isEmpty(), rec.warnings.toString());

        float[] withoutSlg = image(model, Fixtures.request(dir, true).toBuilder().optSkipLayers(List.of()).build(),
                new LoraGoldensTest.Recorder());
        assertTrue(maxDiff(withoutSlg, ref) > 10 * IMAGE_TOL, "the extra pass changes the picture");
    }

    @Test
    void aBlockTheModelDoesNotHaveIsRefusedWithTheValidRange() throws Exception {
        for (int layer : new int[] {2, -1}) {
            GenerationRequest r = Fixtures.request(slgCase("sd3_slg_layer1_wide_window"), true).toBuilder()
                    .optSkipLayers(List.of(0, layer)).build();
            EngineException e = assertThrows(EngineException.class,
                    () -> pipeline("tiny-sd3").generate(r, new LoraGoldensTest.Recorder(), CancelToken.none()));
            assertEquals(EngineException.Kind.INVALID_REQUEST, e.kind());
            assertEquals("skip layer " + layer + " does not exist: this model's transformer has 2 blocks, numbered 0 to 1;"
                    + " choose skip layers in that range.", e.getMessage());
        }
    }

    @Test
    void withoutClassifierFreeGuidanceThereIsNoExtraPassAndNoRewiredSession() throws Exception {
        GenerationRequest noCfg = Fixtures.request(slgCase("sd3_slg_layer1_wide_window"), true).toBuilder()
                .optGuidance(1.0).build();
        float[] plain = image("tiny-sd3", noCfg.toBuilder().optSkipLayers(List.of()).build(), new LoraGoldensTest.Recorder());
        LoraGoldensTest.Recorder rec = new LoraGoldensTest.Recorder();
        float[] withSlg = image("tiny-sd3", noCfg, rec);
        assertArrayEquals(plain, withSlg);
        assertEquals(List.of(), rec.loads(), "the plain transformer stays: " + rec.stages);
        assertTrue(rec.warnings.stream().anyMatch(w -> w.startsWith("skip-layer guidance works on top of classifier-free"
                + " guidance")), rec.warnings.toString());
    }

    @Test
    void theRewiredSessionReplacesThePlainOneAndGoesWhenSlgIsOff() throws Exception {
        Sd3Pipeline p = pipeline("tiny-sd3");
        GenerationRequest slg = Fixtures.request(slgCase("sd3_slg_layer1_wide_window"), true);
        GenerationRequest off = slg.toBuilder().optSkipLayers(List.of()).build();
        float[] before = image("tiny-sd3", off, new LoraGoldensTest.Recorder());
        int live = OrtRuntime.liveSessions();

        LoraGoldensTest.Recorder on = new LoraGoldensTest.Recorder();
        image("tiny-sd3", slg, on);
        assertEquals(List.of("transformer"), on.loads(), on.stages.toString());
        assertEquals(live, OrtRuntime.liveSessions(), "one transformer session, not a second beside the first");
        assertTrue(p.openSessions().contains(Component.TRANSFORMER));

        LoraGoldensTest.Recorder otherLayers = new LoraGoldensTest.Recorder();
        image("tiny-sd3", slg.toBuilder().optSkipLayers(List.of(0)).build(), otherLayers);
        assertEquals(List.of(), otherLayers.loads(), "other blocks reuse the rewired session");

        LoraGoldensTest.Recorder offAgain = new LoraGoldensTest.Recorder();
        float[] after = image("tiny-sd3", off, offAgain);
        assertEquals(List.of("transformer"), offAgain.loads(), "SLG off opens the export as it is again");
        assertArrayEquals(before, after);
        assertEquals(live, OrtRuntime.liveSessions());
    }

    @Test
    void withALoraTheRewiredSessionCarriesTheMergedWeights() throws Exception {
        Path loraCase = LoraTestFiles.caseDir("sd3_lora_rank4");
        LoraSpec lora = new LoraSpec(loraCase.resolve("lora.safetensors"), 0.8);
        GenerationRequest withLora = Fixtures.request(loraCase, true).toBuilder().optLoras(List.of(lora)).build();
        float[] loraOnly = image("tiny-sd3", withLora, new LoraGoldensTest.Recorder());
        assertTrue(maxDiff(loraOnly, LoraTestFiles.npy(loraCase, "image").data()) < 1e-4f);

        // scale 0: the extra pass runs on the rewired, merged session and adds exactly nothing
        LoraGoldensTest.Recorder rec = new LoraGoldensTest.Recorder();
        GenerationRequest zeroScale = withLora.toBuilder().optSkipLayers(List.of(0)).optSkipLayerScale(0)
                .optSkipLayerStart(0).optSkipLayerStop(1).build();
        float[] rewired = image("tiny-sd3", zeroScale, rec);
        assertTrue(rec.stages.stream().anyMatch(s -> s.startsWith("merge ")), rec.stages.toString());
        assertTrue(maxDiff(rewired, loraOnly) < 1e-5f, "the rewired session has the LoRA: " + maxDiff(rewired, loraOnly));

        float[] slg = image("tiny-sd3", zeroScale.toBuilder().optSkipLayerScale(2.8).build(), new LoraGoldensTest.Recorder());
        assertTrue(maxDiff(slg, loraOnly) > 1e-2f, "and SLG on top of the LoRA changes the picture");
    }

    @Test
    void eachImageOfABatchGetsItsOwnPromptsExtraPass() throws Exception {
        GenerationRequest one = Fixtures.request(slgCase("sd3_slg_layer1_wide_window"), false);
        GenerationRequest two = one.toBuilder().setPrompts(List.of("a red fox in tall grass", "a blue boat"))
                .optNegatives(List.of("blurry")).build();
        float[] batch = image("tiny-sd3", two, new LoraGoldensTest.Recorder());
        float[] second = image("tiny-sd3", one.toBuilder().setPrompts(List.of("a blue boat"))
                .optNoiseSlice(new dev.sd3studio.engine.api.NoiseSlice(2, 1)).build(), new LoraGoldensTest.Recorder());
        float[] first = image("tiny-sd3", one, new LoraGoldensTest.Recorder());
        int half = batch.length / 2;
        assertTrue(maxDiff(java.util.Arrays.copyOfRange(batch, 0, half), first) < 1e-4f);
        assertTrue(maxDiff(java.util.Arrays.copyOfRange(batch, half, batch.length), second) < 1e-4f);
    }
}
