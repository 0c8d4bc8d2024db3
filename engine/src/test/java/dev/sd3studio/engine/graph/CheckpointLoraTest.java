package dev.sd3studio.engine.graph;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CheckpointFiles;
import dev.sd3studio.engine.lora.OnnxWeights;
import dev.sd3studio.engine.lora.OnnxWeights.LinearWeight;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.model.ModelFolder;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.format.ElementDecoder;
import dev.sd3studio.engine.lora.LoraMerge;
import dev.sd3studio.engine.lora.LoraSelection;
import dev.sd3studio.engine.lora.LoraTestFiles;
import dev.sd3studio.engine.lora.MergedWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A checkpoint's built graphs name their linear layers as the ONNX export of the same model does, so one LoRA
 * matches both: the module paths of every LoRA component equal the export's (without its "m." prefix), the
 * transformer's modulations included, which the built graph cuts into row ranges of their module. And a LoRA merged
 * into a float16 or bfloat16 checkpoint's weights gives the float32 checkpoint's merged weights to that precision.
 */
class CheckpointLoraTest {
    private static Set<String> paths(OnnxWeights w) {
        return w.linears().stream().map(LinearWeight::modulePath).filter(p -> p != null)
                .map(p -> p.startsWith("m.") ? p.substring(2) : p).collect(Collectors.toCollection(TreeSet::new));
    }

    @ParameterizedTest
    @ValueSource(strings = {"checkpoints/tiny-sd3-diffusers-fp32", "checkpoints/tiny-sd3-comfy-fp16/tiny-sd3.safetensors",
            "checkpoints/tiny-sd3-diffusers-bf16"})
    void builtGraphsNameTheirLinearLayersAsTheExportDoes(String model) throws Exception {
        ModelFolder export = ModelFolder.detect(Fixtures.model("tiny-sd3"));
        CheckpointModel checkpoint = CheckpointModel.open(Fixtures.root().resolve(model),
                CheckpointFiles.NONE.withTokenizers(Fixtures.root().resolve("tokenizers")));
        for (Component c : List.of(Component.TEXT_ENCODER, Component.TEXT_ENCODER_2, Component.TEXT_ENCODER_3,
                Component.TRANSFORMER)) {
            Set<String> expected = new TreeSet<>(paths(export.linearWeights(c).orElseThrow()));
            if (c == Component.TEXT_ENCODER && model.endsWith(".safetensors")) {
                expected.remove("text_projection");   // a separate clip_l file's projection is unused, as in ComfyUI
            }
            OnnxWeights built = checkpoint.linearWeights(c).orElseThrow();
            assertEquals(expected, paths(built), model + " " + c);
            assertEquals(null, built.whyNotLoraReady());
            for (LinearWeight w : built.linears()) {
                if (w.modulePath() != null) {
                    assertTrue(w.weight().external() && OnnxWeights.canMerge(w.weight().dataType()), w.toString());
                    assertEquals(OnnxWeights.Layout.OUT_IN, w.layout(), w.node());
                }
            }
        }
        // the skippable transformer's weights carry the same initializer names, so one merge serves both graphs
        var skippable = checkpoint.require(Component.TRANSFORMER, true);
        OnnxWeights s = OnnxWeights.read(skippable.built(), skippable.weightFolder(), skippable.source());
        assertEquals(names(checkpoint.linearWeights(Component.TRANSFORMER).orElseThrow()), names(s));
    }

    private static List<String> names(OnnxWeights w) {
        return w.linears().stream().map(l -> l.modulePath() + "=" + l.weight().name()).toList();
    }

    /**
     * Per element: the float16 (bfloat16) file holds the float32 weights rounded (|w − w32| ≤ half an ulp of the
     * narrow type), which also proves that each LoRA layer found the same rows, q, k and v cut from the fused qkv
     * included; the merge adds the same delta and rounds once more, so |m − m32| ≤ |w − w32| + half an ulp of the
     * merged value (the larger of the two, since w + delta may lie across a power of two from m32).
     */
    @ParameterizedTest
    @ValueSource(strings = {"checkpoints/tiny-sd3-comfy-fp16/tiny-sd3.safetensors", "checkpoints/tiny-sd3-diffusers-bf16"})
    void aLoraMergedIntoNarrowWeightsEqualsTheFloat32MergeToTheirPrecision(String model, @TempDir Path tmp) throws Exception {
        CheckpointFiles files = CheckpointFiles.NONE.withTokenizers(Fixtures.root().resolve("tokenizers"));
        CheckpointModel fp32 = CheckpointModel.open(Fixtures.root().resolve("checkpoints/tiny-sd3-diffusers-fp32"), files);
        CheckpointModel narrow = CheckpointModel.open(Fixtures.root().resolve(model), files);
        int mantissaBits = model.contains("bf16") ? 7 : 10;
        List<LoraSpec> spec = List.of(new LoraSpec(LoraTestFiles.caseDir("sd3_lora_rank4").resolve("lora.safetensors"), 0.8),
                new LoraSpec(LoraTestFiles.everyKindOfLayer(tmp.resolve("every-kind.safetensors")), 1.0));
        Map<String, float[][]> merged32 = baseAndMerged(fp32, spec);
        Map<String, float[][]> mergedNarrow = baseAndMerged(narrow, spec);
        // 15 attention layers, 6 layers whole, and the modulations' chunks: 6 + 6 + 6 + 2 + 2
        assertEquals(15 + 6 + 22, merged32.size(), merged32.keySet().toString());
        assertEquals(merged32.keySet(), mergedNarrow.keySet());
        float largestChange = 0;
        for (String module : merged32.keySet()) {
            float[] w32 = merged32.get(module)[0];
            float[] m32 = merged32.get(module)[1];
            float[] w = mergedNarrow.get(module)[0];
            float[] m = mergedNarrow.get(module)[1];
            for (int i = 0; i < w32.length; i++) {
                assertTrue(Math.abs(w[i] - w32[i]) <= halfUlp(w32[i], mantissaBits), module + "[" + i + "] base " + w[i] + " vs " + w32[i]);
                assertTrue(Math.abs(m[i] - m32[i]) <= Math.abs(w[i] - w32[i])
                                + halfUlp(Math.max(Math.abs(m[i]), Math.abs(m32[i])), mantissaBits),
                        module + "[" + i + "] merged " + m[i] + " vs " + m32[i] + ", base " + w[i] + " vs " + w32[i]);
                largestChange = Math.max(largestChange, Math.abs(m32[i] - w32[i]));
            }
        }
        assertTrue(largestChange > 0.01, "the LoRA changes the weights: " + largestChange);
    }

    /** Half the spacing of a float type with {@code mantissaBits} at |x| (float16's subnormal floor), plus float32's own rounding. */
    private static float halfUlp(float x, int mantissaBits) {
        float a = Math.max(Math.abs(x), 0x1p-14f);
        return Math.scalb(1f, Math.getExponent(a) - mantissaBits - 1) + Math.ulp(x);
    }

    /**
     * A T5 stored as float8 takes no LoRA (a merge rounded to 3 mantissa bits would lose it): its keys are reported
     * unmatched with that reason, a warning, while the same LoRA's CLIP-L part is applied; T5 module paths match.
     */
    @Test
    void float8WeightsAreReportedUnmatchedWithTheReason(@TempDir Path tmp) throws Exception {
        CheckpointModel model = CheckpointModel.open(
                Fixtures.root().resolve("checkpoints/tiny-sd35-comfy-fp16-t5fp8/tiny-sd35.safetensors"),
                CheckpointFiles.NONE.withTokenizers(Fixtures.root().resolve("tokenizers")));
        Map<String, LoraTestFiles.T> tensors = new TreeMap<>();
        addPair(tensors, "lora_te3_encoder_block_0_layer_0_SelfAttention_q",
                model.linearWeights(Component.TEXT_ENCODER_3).orElseThrow().byModulePath("encoder.block.0.layer.0.SelfAttention.q"));
        addPair(tensors, "lora_te1_text_model_encoder_layers_0_self_attn_q_proj",
                model.linearWeights(Component.TEXT_ENCODER).orElseThrow().byModulePath("text_model.encoder.layers.0.self_attn.q_proj"));
        Path file = LoraTestFiles.writeF32(tmp.resolve("te.safetensors"), tensors);
        try (LoraSelection s = LoraSelection.select(List.of(new LoraSpec(file, 1.0)), model::linearWeights)) {
            var report = s.report().files().getFirst();
            assertEquals(1, report.unmatched().size(), s.report().describe());
            assertTrue(report.unmatched().getFirst().reason().contains("float8"), s.report().describe());
            assertEquals(List.of("text_model.encoder.layers.0.self_attn.q_proj"),
                    report.matched().stream().map(m -> m.layer()).toList());
            assertEquals(1, s.plan(Component.TEXT_ENCODER).contributions().size());
            assertTrue(s.plan(Component.TEXT_ENCODER_3).isEmpty());
            assertEquals(1, s.warnings().size(), s.warnings().toString());
        }
    }

    private static void addPair(Map<String, LoraTestFiles.T> out, String key, List<LinearWeight> layer) {
        assertEquals(1, layer.size(), key);
        int in = (int) layer.getFirst().inFeatures();
        int outF = (int) layer.getFirst().outFeatures();
        out.put(key + ".lora_down.weight", new LoraTestFiles.T(new long[] {2, in}, new float[2 * in]));
        out.put(key + ".lora_up.weight", new LoraTestFiles.T(new long[] {outF, 2}, new float[outF * 2]));
    }

    /** Module path → {base weight, merged weight} as floats, in the stored [out, in] layout. */
    private static Map<String, float[][]> baseAndMerged(CheckpointModel model, List<LoraSpec> spec) throws Exception {
        Map<String, float[][]> out = new TreeMap<>();
        try (LoraSelection s = LoraSelection.select(spec, model::linearWeights)) {
            var contributions = s.plan(Component.TRANSFORMER).contributions();
            Map<String, String> moduleOf = new java.util.HashMap<>();
            Map<String, float[]> base = new java.util.HashMap<>();
            for (var c : contributions) {
                moduleOf.put(c.weight().weight().name(), c.weight().modulePath() + "@" + c.weight().firstRow());
                base.put(c.weight().weight().name(), OnnxWeights.readFloats(c.weight().weight()));
            }
            try (MergedWeights merged = LoraMerge.merge(contributions)) {
                for (MergedWeights.Weight w : merged.weights()) {
                    float[] m = new float[base.get(w.name()).length];
                    ByteBuffer b = w.data().duplicate().order(ByteOrder.nativeOrder());
                    for (int i = 0; i < m.length; i++) {
                        m[i] = switch (w.dataType()) {
                            case OnnxWeights.FLOAT16 -> ElementDecoder.f16(b.getShort(i * 2));
                            case OnnxWeights.BFLOAT16 -> ElementDecoder.bf16(b.getShort(i * 2));
                            default -> b.getFloat(i * 4);
                        };
                    }
                    out.put(moduleOf.get(w.name()), new float[][] {base.get(w.name()), m});
                }
            }
        }
        return out;
    }
}
