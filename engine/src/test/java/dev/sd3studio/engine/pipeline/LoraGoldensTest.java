package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.lora.LoraTestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LoRA goldens (diffusers 0.38 {@code load_lora_weights}) end to end through the engine, plus what the
 * reference cannot check: the kohya layout, several LoRAs, removal and scale changes on a live engine.
 */
class LoraGoldensTest {
    private static final float IMAGE_TOL = 1e-4f;
    private static Sd3Pipeline pipeline;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() throws Exception {
        pipeline = Sd3Pipeline.open(Fixtures.model("tiny-sd3"), EngineOptions.defaults());
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    private static Path caseDir(String name) {
        return LoraTestFiles.caseDir(name);
    }

    private static LoraSpec lora(String caseName, double scale) {
        return new LoraSpec(caseDir(caseName).resolve("lora.safetensors"), scale);
    }

    private static double scaleOf(String caseName) {
        return caseName.equals("sd3_lora_rank4") ? 0.8 : 1.0;
    }

    /** Remembers load stages and the prompt embeddings of one generation. */
    static final class Recorder implements ProgressListener {
        final List<String> stages = new ArrayList<>();
        final List<String> warnings = new ArrayList<>();
        final Map<String, FloatTensor> tensors = new LinkedHashMap<>();

        @Override
        public void stage(String name) {
            stages.add(name);
        }

        @Override
        public void warning(String message) {
            warnings.add(message);
        }

        @Override
        public void tensor(String name, FloatTensor value) {
            tensors.put(name, value.copy());
        }

        List<String> loads() {
            return stages.stream().filter(s -> s.startsWith("load ")).map(s -> s.split(" ")[1]).toList();
        }
    }

    private static float[] generate(String caseName, Recorder rec, LoraSpec... loras) throws Exception {
        GenerationRequest r = dev.sd3studio.engine.Fixtures.request(caseDir(caseName), true).toBuilder()
                .optLoras(List.of(loras)).build();
        GenerationResult result = pipeline.generate(r, rec, CancelToken.none());
        return result.images().data();
    }

    private static float maxDiff(float[] a, float[] b) {
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sd3_lora_rank4", "sd3_lora_rank8_scale1"})
    void matchesTheReferenceWithTheLoraLoaded(String caseName) throws Exception {
        Recorder rec = new Recorder();
        float[] image = generate(caseName, rec, lora(caseName, scaleOf(caseName)));
        float[] ref = LoraTestFiles.npy(caseDir(caseName), "image").data();
        assertTrue(maxDiff(image, ref) < IMAGE_TOL, caseName + ": " + maxDiff(image, ref));
        assertTrue(rec.stages.stream().anyMatch(s -> s.startsWith("merge ") && s.endsWith("into transformer")), rec.stages.toString());
        assertTrue(rec.warnings.isEmpty(), rec.warnings.toString());
        float[] noLora = LoraTestFiles.npy(caseDir(caseName), "image_no_lora").data();
        assertTrue(maxDiff(image, noLora) > 0.05, "the LoRA changes the picture");
    }

    @Test
    void removingTheLoraRestoresTheBaseImageBitForBitAndOnlyTheTransformerReloads() throws Exception {
        Recorder first = new Recorder();
        float[] base = generate("sd3_lora_rank4", first);
        assertTrue(maxDiff(base, LoraTestFiles.npy(caseDir("sd3_lora_rank4"), "image_no_lora").data()) < IMAGE_TOL);

        Recorder with = new Recorder();
        float[] withLora = generate("sd3_lora_rank4", with, lora("sd3_lora_rank4", 0.8));
        assertEquals(List.of("transformer"), with.loads(), "a transformer LoRA reloads the transformer only");
        assertTrue(with.stages.contains("encode prompt (cached)"), with.stages.toString());

        Recorder rescaled = new Recorder();
        float[] half = generate("sd3_lora_rank4", rescaled, lora("sd3_lora_rank4", 0.4));
        assertEquals(List.of("transformer"), rescaled.loads());
        assertTrue(maxDiff(half, withLora) > 1e-3 && maxDiff(half, base) > 1e-3);

        Recorder same = new Recorder();
        generate("sd3_lora_rank4", same, lora("sd3_lora_rank4", 0.4));
        assertEquals(List.of(), same.loads(), "the same LoRAs again reuse the merged session");

        Recorder removed = new Recorder();
        float[] again = generate("sd3_lora_rank4", removed);
        assertEquals(List.of("transformer"), removed.loads());
        assertArrayEquals(base, again, "removing the LoRA restores the base weights exactly");
    }

    @Test
    void kohyaLayoutGivesTheIdenticalImage() throws Exception {
        Path kohya = LoraTestFiles.toKohya(lora("sd3_lora_rank8_scale1", 1).file(), tmp.resolve("kohya.safetensors"));
        float[] peft = generate("sd3_lora_rank8_scale1", new Recorder(), lora("sd3_lora_rank8_scale1", 1.0));
        Recorder rec = new Recorder();
        float[] fromKohya = generate("sd3_lora_rank8_scale1", rec, new LoraSpec(kohya, 1.0));
        assertTrue(rec.warnings.isEmpty(), rec.warnings.toString());
        assertArrayEquals(peft, fromKohya);
    }

    @Test
    void severalLorasEachWithItsScale() throws Exception {
        float[] whole = generate("sd3_lora_rank4", new Recorder(), lora("sd3_lora_rank4", 0.8));
        float[] split = generate("sd3_lora_rank4", new Recorder(), lora("sd3_lora_rank4", 0.5), lora("sd3_lora_rank4", 0.3));
        assertTrue(maxDiff(whole, split) < IMAGE_TOL, "0.5 + 0.3 of one LoRA is 0.8 of it: " + maxDiff(whole, split));
        float[] both = generate("sd3_lora_rank4", new Recorder(), lora("sd3_lora_rank4", 0.8), lora("sd3_lora_rank8_scale1", 1.0));
        assertTrue(maxDiff(both, whole) > 1e-2, "the second LoRA adds its own change");
    }

    @Test
    void textEncoderLorasChangeTheEmbeddingsAndOnlyTheirEncoderReloads() throws Exception {
        Path te = LoraTestFiles.clipLQueryLora(tmp.resolve("te.safetensors"));
        Recorder base = new Recorder();
        generate("sd3_lora_rank4", base);
        Recorder with = new Recorder();
        generate("sd3_lora_rank4", with, new LoraSpec(te, 1.0));
        assertEquals(List.of("text_encoder"), with.loads(), with.stages.toString());
        assertTrue(maxDiff(base.tensors.get("prompt_embeds").data(), with.tensors.get("prompt_embeds").data()) > 1e-3);
        Recorder removed = new Recorder();
        generate("sd3_lora_rank4", removed);
        assertEquals(List.of("text_encoder"), removed.loads());
        assertArrayEquals(base.tensors.get("prompt_embeds").data(), removed.tensors.get("prompt_embeds").data());
        assertFalse(removed.stages.contains("encode prompt (cached)"));
    }
}
