package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.LoraReport;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.model.Component;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoraSelectionTest {
    @TempDir
    Path tmp;

    @Test
    void reportListsEveryKeyAndItsLayer() throws Exception {
        try (LoraSelection s = LoraFixtures.select(LoraFixtures.golden("sd3_lora_rank4", 0.8))) {
            LoraReport.FileReport f = s.report().files().getFirst();
            assertEquals(15, f.matched().size());
            assertTrue(f.unmatched().isEmpty());
            assertTrue(f.matched().contains(new LoraReport.Match("transformer.transformer_blocks.0.attn.to_q",
                    "transformer", "transformer_blocks.0.attn.to_q", "/m/transformer_blocks.0/attn/to_q/MatMul")));
            assertEquals("lora.safetensors:0.8: 15 layers changed", f.summary());
            assertEquals(15, s.plan(Component.TRANSFORMER).contributions().size());
            assertTrue(s.plan(Component.TEXT_ENCODER).isEmpty());
        }
    }

    @Test
    void keysThatMatchNothingAreListedWithTheReason() throws Exception {
        Map<String, LoraTestFiles.T> t = new LinkedHashMap<>(LoraTestFiles.readAll(
                LoraFixtures.golden("sd3_lora_rank4", 1).file()));
        t.put("transformer.transformer_blocks.7.attn.to_q.lora_A.weight", new LoraTestFiles.T(new long[] {4, 32}, new float[128]));
        t.put("transformer.transformer_blocks.7.attn.to_q.lora_B.weight", new LoraTestFiles.T(new long[] {32, 4}, new float[128]));
        t.put("transformer.transformer_blocks.0.attn.to_q.lora_magnitude_vector", new LoraTestFiles.T(new long[] {32}, new float[32]));
        Path f = LoraTestFiles.writeF32(tmp.resolve("extra.safetensors"), t);
        try (LoraSelection s = LoraFixtures.select(new LoraSpec(f, 1))) {
            LoraReport.FileReport r = s.report().files().getFirst();
            assertEquals(15, r.matched().size());
            assertEquals(2, r.unmatched().size(), s.report().describe());
            assertTrue(s.report().describe().contains("UNMATCHED transformer.transformer_blocks.7.attn.to_q: no layer"
                    + " transformer_blocks.7.attn.to_q in the transformer model"), s.report().describe());
            assertTrue(s.report().describe().contains("DoRA"));
            assertTrue(s.warnings().getFirst().contains("1 of its transformer keys matched nothing"), s.warnings().toString());
        }
    }

    @Test
    void aLoraForAnotherModelIsAnErrorNotASilentNoOp() throws Exception {
        Path sd15 = LoraTestFiles.writeF32(tmp.resolve("sd15.safetensors"), Map.of(
                "transformer.down_blocks.0.attentions.0.proj_in.lora_A.weight", new LoraTestFiles.T(new long[] {4, 32}, new float[128]),
                "transformer.down_blocks.0.attentions.0.proj_in.lora_B.weight", new LoraTestFiles.T(new long[] {32, 4}, new float[128])));
        EngineException e = assertThrows(EngineException.class, () -> LoraFixtures.select(new LoraSpec(sd15, 1)));
        assertTrue(e.getMessage().contains("matched no layer of the transformer"), e.getMessage());
        Path wrongSize = LoraTestFiles.writeF32(tmp.resolve("big.safetensors"), Map.of(
                "transformer.transformer_blocks.0.attn.to_q.lora_A.weight", new LoraTestFiles.T(new long[] {2, 64}, new float[128]),
                "transformer.transformer_blocks.0.attn.to_q.lora_B.weight", new LoraTestFiles.T(new long[] {64, 2}, new float[128])));
        e = assertThrows(EngineException.class, () -> LoraFixtures.select(new LoraSpec(wrongSize, 1)));
        assertTrue(e.getMessage().contains("another model size"), e.getMessage());
        Path nothing = LoraTestFiles.writeF32(tmp.resolve("nothing.safetensors"), Map.of(
                "foo", new LoraTestFiles.T(new long[] {1}, new float[1])));
        e = assertThrows(EngineException.class, () -> LoraFixtures.select(new LoraSpec(nothing, 1)));
        assertTrue(e.getMessage().contains("no LoRA layers"), e.getMessage());
    }

    @Test
    void anOptimizedTransformerExportCannotTakeLoras() throws Exception {
        OnnxWeights fused = OnnxWeights.read(TinyOnnx.fused(tmp.resolve("fused")));
        LoraSelection.Graphs graphs = c -> c == Component.TRANSFORMER ? Optional.of(fused) : Optional.empty();
        EngineException e = assertThrows(EngineException.class, () -> LoraSelection.select(
                List.of(LoraFixtures.golden("sd3_lora_rank4", 1)), graphs));
        assertEquals("this transformer export cannot take LoRAs: its optimizer fused or quantized the projections"
                + " (Attention nodes). Use an unoptimized export (optimum-cli export onnx without --optimize).", e.getMessage());
    }

    @Test
    void textEncoderKeysApplyWhereTheExportAllowsElseANamedWarning() throws Exception {
        Map<String, LoraTestFiles.T> t = new LinkedHashMap<>(LoraTestFiles.readAll(
                LoraFixtures.golden("sd3_lora_rank4", 1).file()));
        t.put("lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", new LoraTestFiles.T(new long[] {2, 8}, new float[16]));
        t.put("lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight", new LoraTestFiles.T(new long[] {8, 2}, new float[16]));
        t.put("text_encoder_3.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight", new LoraTestFiles.T(new long[] {2, 32}, new float[64]));
        t.put("text_encoder_3.encoder.block.0.layer.0.SelfAttention.q.lora_B.weight", new LoraTestFiles.T(new long[] {32, 2}, new float[64]));
        Path f = LoraTestFiles.writeF32(tmp.resolve("te.safetensors"), t);
        try (LoraSelection s = LoraFixtures.select(new LoraSpec(f, 1))) {
            assertEquals(1, s.plan(Component.TEXT_ENCODER).contributions().size());
            assertEquals(1, s.plan(Component.TEXT_ENCODER_3).contributions().size());
            assertTrue(s.warnings().isEmpty(), s.warnings().toString());
        }
        LoraSelection.Graphs noT5 = c -> c == Component.TEXT_ENCODER_3 ? Optional.empty()
                : LoraFixtures.graphs(dev.sd3studio.engine.Fixtures.model("tiny-sd3")).of(c);
        try (LoraSelection s = LoraSelection.select(List.of(new LoraSpec(f, 1)), noT5)) {
            assertTrue(s.plan(Component.TEXT_ENCODER_3).isEmpty());
            assertEquals(List.of("LoRA te.safetensors:1.0: 1 of its text_encoder_3 keys were not applied: the model"
                    + " has no T5-XXL text encoder or it is dropped"), s.warnings());
        }
    }

    @Test
    void fingerprintsChangeOnlyForTheComponentsALoraTouches() throws Exception {
        try (LoraSelection a = LoraFixtures.select(LoraFixtures.golden("sd3_lora_rank4", 0.8));
             LoraSelection b = LoraFixtures.select(LoraFixtures.golden("sd3_lora_rank4", 0.5));
             LoraSelection off = LoraFixtures.select(LoraFixtures.golden("sd3_lora_rank4", 0))) {
            assertNotEquals(a.plan(Component.TRANSFORMER).fingerprint(), b.plan(Component.TRANSFORMER).fingerprint());
            assertEquals(a.plan(Component.TEXT_ENCODER).fingerprint(), b.plan(Component.TEXT_ENCODER).fingerprint());
            assertTrue(off.plan(Component.TRANSFORMER).isEmpty(), "scale 0 merges nothing: the base weights");
            assertFalse(off.report().files().getFirst().matched().isEmpty(), "but it is still reported");
        }
    }

    /** scale · alpha / rank is NaN or infinite for these: refused as corrupt, never merged. */
    @Test
    void aRankZeroOrNonFiniteAlphaLoraIsCorrupt() throws Exception {
        String key = "transformer.transformer_blocks.0.attn.add_k_proj";
        Path rankZero = LoraTestFiles.writeF32(tmp.resolve("rank0.safetensors"), Map.of(
                key + ".lora_A.weight", new LoraTestFiles.T(new long[] {0, 32}, new float[0]),
                key + ".lora_B.weight", new LoraTestFiles.T(new long[] {32, 0}, new float[0])));
        EngineException e = assertThrows(EngineException.class, () -> LoraFixtures.select(new LoraSpec(rankZero, 1)));
        assertEquals(EngineException.Kind.CORRUPT_FILE, e.kind());
        assertTrue(e.getMessage().startsWith("LoRA " + rankZero + " is corrupt: its module " + key
                + " has rank 0 (down [0, 32], up [32, 0])"), e.getMessage());
        for (float alpha : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            String kohya = "lora_unet_joint_blocks_0_context_block_attn_proj";
            Path bad = LoraTestFiles.writeF32(tmp.resolve("alpha.safetensors"), Map.of(
                    kohya + ".lora_down.weight", new LoraTestFiles.T(new long[] {2, 32}, new float[64]),
                    kohya + ".lora_up.weight", new LoraTestFiles.T(new long[] {32, 2}, new float[64]),
                    kohya + ".alpha", new LoraTestFiles.T(new long[0], new float[] {alpha})));
            e = assertThrows(EngineException.class, () -> LoraFixtures.select(new LoraSpec(bad, 1)), "alpha " + alpha);
            assertEquals(EngineException.Kind.CORRUPT_FILE, e.kind());
            assertTrue(e.getMessage().contains(bad + " is corrupt: its module ") && e.getMessage().contains(" has alpha "
                    + (double) alpha), e.getMessage());
        }
    }

    @Test
    void pickledLorasAreRefusedBeforeAnythingIsRead() throws Exception {
        Path zip = Files.write(tmp.resolve("lora.bin"), new byte[] {'P', 'K', 3, 4, 0, 0});
        Path pickle = Files.write(tmp.resolve("lora.safetensors"), new byte[] {(byte) 0x80, 2, ']', 'q'});
        for (Path p : List.of(zip, pickle)) {
            EngineException e = assertThrows(EngineException.class, () -> LoraFixtures.select(new LoraSpec(p, 1)));
            assertTrue(e.getMessage().contains("is a pickled PyTorch file") && e.getMessage().contains(".safetensors"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    void scaleIsParsedFromTheCommandLineForm() throws Exception {
        assertEquals(new LoraSpec(Path.of("a.safetensors"), 0.8), LoraSpec.parse("a.safetensors:0.8"));
        assertEquals(new LoraSpec(Path.of("a.safetensors"), 1.0), LoraSpec.parse("a.safetensors"));
        assertEquals(new LoraSpec(Path.of("C:\\x\\a.safetensors"), 1.0), LoraSpec.parse("C:\\x\\a.safetensors"));
        assertEquals(new LoraSpec(Path.of("a.safetensors"), -0.5), LoraSpec.parse("a.safetensors:-0.5"));
        assertThrows(EngineException.class, () -> LoraSpec.parse("a.safetensors:0.8.1"));
        assertEquals("a.safetensors:0.8", new LoraSpec(Path.of("/x/a.safetensors"), 0.8).describe());
    }
}
