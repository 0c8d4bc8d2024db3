package dev.sd3studio.engine.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.lora.OnnxWeights.Layout;
import dev.sd3studio.engine.lora.OnnxWeights.LinearWeight;
import org.junit.jupiter.api.Test;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.model.Component;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnnxWeightsTest {
    @TempDir
    Path tmp;

    private static OnnxWeights transformer() throws Exception {
        return OnnxWeights.read(Fixtures.model("tiny-sd3").resolve("transformer/model.onnx"));
    }

    @Test
    void findsEveryGoldenTargetWhereTheFixtureMappingSays() throws Exception {
        OnnxWeights w = transformer();
        assertNull(w.whyNotLoraReady());
        JsonNode mapping = new ObjectMapper().readTree(
                LoraTestFiles.caseDir("sd3_lora_rank8_scale1").resolve("onnx_mapping.json").toFile());
        assertEquals(19, mapping.size());
        for (var it = mapping.fields(); it.hasNext(); ) {
            var e = it.next();
            List<LinearWeight> hits = w.byModulePath(e.getKey());
            assertEquals(1, hits.size(), e.getKey());
            assertEquals(e.getValue().path("matmul_node").asText(), hits.getFirst().node());
            assertEquals(e.getValue().path("weight_initializer").asText(), hits.getFirst().weight().name());
            assertEquals(Layout.IN_OUT, hits.getFirst().layout());
        }
    }

    @Test
    void gemmWithTransposedWeightKeepsTorchLayout() throws Exception {
        LinearWeight ada = transformer().byModulePath("transformer_blocks.0.norm1.linear").getFirst();
        assertEquals(Layout.OUT_IN, ada.layout());
        assertArrayEquals(new long[] {192, 32}, ada.weight().dims());
        assertEquals(32, ada.inFeatures());
        assertEquals(192, ada.outFeatures());
    }

    @Test
    void matchesOnSegmentsNotOnSubstrings() throws Exception {
        OnnxWeights w = transformer();
        assertTrue(w.byModulePath("attn.to_q").size() == 2, "a suffix path matches every block");
        assertTrue(w.byModulePath("blocks.0.attn.to_q").isEmpty(), "'blocks' is not the segment 'transformer_blocks'");
        assertEquals(1, w.byFlatName("transformer_blocks_1_attn_to_k").size());
        assertTrue(w.byFlatName("ocks_1_attn_to_k").isEmpty());
    }

    @Test
    void textEncodersKeepTheirModulePaths() throws Exception {
        OnnxWeights clip = OnnxWeights.read(Fixtures.model("tiny-sd3").resolve("text_encoder/model.onnx"));
        assertEquals(1, clip.byModulePath("text_model.encoder.layers.0.self_attn.q_proj").size());
        OnnxWeights t5 = OnnxWeights.read(Fixtures.model("tiny-sd3").resolve("text_encoder_3/model.onnx"));
        assertEquals(1, t5.byFlatName("encoder_block_1_layer_0_SelfAttention_q").size());
    }

    @Test
    void optimizedExportsSayWhyTheyCannotTakeLoras() throws Exception {
        OnnxWeights fused = OnnxWeights.read(TinyOnnx.fused(tmp.resolve("fused")));
        assertTrue(fused.whyNotLoraReady().contains("Attention"), fused.whyNotLoraReady());
        OnnxWeights plain = OnnxWeights.read(TinyOnnx.linear(tmp.resolve("renamed"), "MatMul_3", new float[4], 2, 2, false));
        assertTrue(plain.whyNotLoraReady().contains("no module paths"), plain.whyNotLoraReady());
    }

    @Test
    void aWeightNamedAfterItsModuleMatchesWhenTheNodeNameWasShortened() throws Exception {
        OnnxWeights g = OnnxWeights.read(TinyOnnx.linear(tmp, "/time_text_embed/linear_1/MatMul",
                "time_text_embed.timestep_embedder.linear_1.weight", new float[4], 2, 2, false));
        assertEquals(1, g.byModulePath("time_text_embed.timestep_embedder.linear_1").size());
        assertEquals(1, g.byModulePath("time_text_embed.linear_1").size());
        assertEquals(1, g.byFlatName("time_text_embed_timestep_embedder_linear_1").size());
        assertTrue(g.byModulePath("text_embedder.linear_1").isEmpty());
    }

    @Test
    void externalDataIsLocatedNotRead() throws Exception {
        float[] w = {1, 2, 3, 4, 5, 6};
        OnnxWeights g = OnnxWeights.read(TinyOnnx.linear(tmp, "/lin/MatMul", w, 2, 3, true));
        LinearWeight lin = g.byModulePath("lin").getFirst();
        assertEquals(tmp.resolve("model.onnx.data").toRealPath(), lin.weight().file());
        assertEquals(16, lin.weight().offset());
        assertArrayEquals(w, OnnxWeights.readFloats(lin.weight()));
    }

    /**
     * A model naming data outside its folder (which ORT refuses when it reads the file itself) is refused
     * when a LoRA is matched against it, before any weight is read: the merge would otherwise copy the
     * outside file into the weights it hands ORT.
     */
    @Test
    void externalDataOutsideTheModelFolderIsRefusedBeforeALoraReadsIt() throws Exception {
        float[] w = {1, 2, 3, 4, 5, 6};
        Path secret = Files.write(tmp.resolve("secret.bin"), LoraTestFiles.concat(new byte[16], TinyOnnx.floats(w)));
        Path dir = Files.createDirectories(tmp.resolve("model"));
        Files.createSymbolicLink(dir.resolve("link.bin"), secret);
        Path lora = LoraTestFiles.writeF32(tmp.resolve("lora.safetensors"), Map.of(
                "transformer.transformer_blocks.0.attn.to_q.lora_A.weight", new LoraTestFiles.T(new long[] {1, 2}, new float[2]),
                "transformer.transformer_blocks.0.attn.to_q.lora_B.weight", new LoraTestFiles.T(new long[] {3, 1}, new float[3])));
        for (String location : new String[] {"../secret.bin", secret.toAbsolutePath().toString(), "link.bin"}) {
            Path model = TinyOnnx.linearAt(dir, "/m/transformer_blocks.0/attn/to_q/MatMul", "onnx::MatMul_7", 2, 3,
                    location, 16);
            LoraSelection.Graphs graphs = c -> c == Component.TRANSFORMER ? Optional.of(OnnxWeights.read(model))
                    : Optional.empty();
            EngineException e = assertThrows(EngineException.class,
                    () -> LoraSelection.select(List.of(new LoraSpec(lora, 1)), graphs).close(), location);
            assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, e.kind(), location);
            assertTrue(e.getMessage().contains(model + " names data outside its folder (\"" + location + "\"); refused"),
                    e.getMessage());
        }
    }
}
