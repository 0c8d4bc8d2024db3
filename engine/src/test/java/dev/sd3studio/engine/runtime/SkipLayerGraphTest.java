package dev.sd3studio.engine.runtime;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.diffusion.Sd3Transformer;
import dev.sd3studio.engine.format.ProtoFields;
import dev.sd3studio.engine.format.ProtoFields.Field;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transformer rewired for skip-layer guidance: every block gets a bypass for each of its streams,
 * the weights stay in the file, with no block bypassed it computes what the export does, and a graph
 * without named blocks is refused with a sentence.
 */
class SkipLayerGraphTest {
    private static final OrtRuntime CPU = new OrtRuntime(Device.CPU);

    @TempDir
    Path tmp;

    private static Path transformer(String model) {
        return Fixtures.model(model).resolve("transformer/model.onnx");
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd3", "tiny-sd35"})
    void eachBlockGetsABypassPerStreamAndTheLastOneForItsImageStreamOnly(String model) throws Exception {
        Path file = transformer(model);
        assertEquals(2, SkipLayerGraph.blockCount(file));
        byte[] rewired = SkipLayerGraph.rewrite(file);
        List<String> whereNodes = nodesOf(rewired).stream()
                .filter(n -> "Where".equals(ProtoFields.firstString(n, 4)))
                .map(n -> ProtoFields.firstString(n, 3)).toList();
        // block 0: image and context stream; block 1 (context_pre_only): the image stream alone
        assertEquals(3, whereNodes.size(), whereNodes.toString());
        assertEquals(2, whereNodes.stream().filter(n -> n.contains("transformer_blocks.0/")).count(), whereNodes.toString());
        // the weights are referenced in the file, not copied into the graph handed to ORT
        assertTrue(rewired.length < Files.size(file) / 2, rewired.length + " bytes of " + Files.size(file));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd3", "tiny-sd35"})
    void withNoBlockBypassedTheRewiredGraphPredictsWhatTheExportDoes(String model) throws Exception {
        Path file = transformer(model);
        Step0 step = Step0.of(model);
        FloatTensor plain;
        try (Sd3Transformer t = new Sd3Transformer(OnnxModel.open(CPU, "transformer", file))) {
            assertEquals(0, t.skippableBlocks());
            plain = step.predict(t, List.of());
        }
        try (Sd3Transformer t = new Sd3Transformer(OnnxModel.open(CPU, "transformer", file, null, true))) {
            assertEquals(2, t.skippableBlocks());
            FloatTensor none = step.predict(t, List.of());
            assertTrue(maxDiff(plain, none) <= 1e-6f, "rewired without bypass: " + maxDiff(plain, none));
            for (int block = 0; block < 2; block++) {
                FloatTensor bypassed = step.predict(t, List.of(block));
                assertTrue(maxDiff(plain, bypassed) > 1e-3f, "bypassing block " + block + " changes the prediction");
            }
        }
    }

    @Test
    void theDemoModelsBlocksNamedBlocksNAreFoundToo() throws Exception {
        Path file = Path.of("../assets/models/sd3-demo/transformer/model.onnx").toAbsolutePath().normalize();
        assertEquals(6, SkipLayerGraph.blockCount(file));
        long where = nodesOf(SkipLayerGraph.rewrite(file)).stream()
                .filter(n -> "Where".equals(ProtoFields.firstString(n, 4))).count();
        assertTrue(where >= 6 && where <= 12, where + " bypassed streams in 6 blocks");
    }

    @Test
    void aGraphWithoutNamedBlocksIsRefusedNamingTheFile() throws Exception {
        Path file = OnnxTestModels.fp16Scale(tmp);
        assertEquals(0, SkipLayerGraph.blockCount(file));
        EngineException e = assertThrows(EngineException.class, () -> SkipLayerGraph.rewrite(file));
        assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, e.kind());
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("transformer_blocks.N"),
                e.getMessage());
    }

    /** The first transformer call of a golden case (both CFG halves). */
    private record Step0(FloatTensor latents, FloatTensor embeds, FloatTensor pooled, float[] timestep) {
        static Step0 of(String model) throws Exception {
            Path dir = Fixtures.root().resolve("goldens-slg")
                    .resolve(model.equals("tiny-sd3") ? "sd3_slg_layer1_wide_window" : "sd35_slg_layer0");
            FloatTensor t = Fixtures.tensor(dir, "step0_transformer_timestep");
            return new Step0(Fixtures.tensor(dir, "step0_transformer_hidden_states"),
                    FloatTensor.concatBatch(Fixtures.tensor(dir, "negative_prompt_embeds"), Fixtures.tensor(dir, "prompt_embeds")),
                    FloatTensor.concatBatch(Fixtures.tensor(dir, "negative_pooled_prompt_embeds"),
                            Fixtures.tensor(dir, "pooled_prompt_embeds")),
                    t.data());
        }

        FloatTensor predict(Sd3Transformer t, List<Integer> bypassed) throws EngineException {
            try (Sd3Transformer.Conditioned c = t.condition(embeds, pooled, latents.shape(), 1, bypassed)) {
                return c.predict(latents, timestep, CancelToken.none());
            }
        }
    }

    private static List<List<Field>> nodesOf(byte[] model) {
        for (Field f : ProtoFields.parse(model)) {
            if (f.is(7, ProtoFields.LENGTH)) {
                return f.fields().stream().filter(n -> n.is(1, ProtoFields.LENGTH)).map(Field::fields).toList();
            }
        }
        throw new AssertionError("no graph");
    }

    private static float maxDiff(FloatTensor a, FloatTensor b) {
        float worst = 0;
        for (int i = 0; i < a.data().length; i++) {
            worst = Math.max(worst, Math.abs(a.data()[i] - b.data()[i]));
        }
        return worst;
    }
}
