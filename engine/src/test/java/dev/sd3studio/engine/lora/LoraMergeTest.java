package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.api.Npy;
import dev.sd3studio.engine.lora.LoraSelection.Contribution;
import dev.sd3studio.engine.model.Component;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoraMergeTest {
    @TempDir
    Path tmp;

    /** Merged weight minus base weight, per initializer, in the stored (in × out) layout. */
    private static Map<String, float[]> deltas(LoraSelection s) throws Exception {
        List<Contribution> plan = s.plan(Component.TRANSFORMER).contributions();
        Map<String, float[]> out = new HashMap<>();
        try (MergedWeights merged = LoraMerge.merge(plan)) {
            for (MergedWeights.Weight w : merged.weights()) {
                OnnxWeights.Initializer init = plan.stream().map(c -> c.weight().weight())
                        .filter(i -> i.name().equals(w.name())).findFirst().orElseThrow();
                float[] base = OnnxWeights.readFloats(init);
                float[] now = new float[base.length];
                w.data().duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().get(now);
                for (int i = 0; i < now.length; i++) {
                    now[i] -= base[i];
                }
                out.put(w.name(), now);
            }
        }
        return out;
    }

    @Test
    void mergedDeltasMatchTheReferencesTransposed() throws Exception {
        for (String caseName : List.of("sd3_lora_rank4", "sd3_lora_rank8_scale1")) {
            double scale = caseName.equals("sd3_lora_rank4") ? 0.8 : 1.0;
            Map<String, Npy.NpyArray> ref = LoraTestFiles.deltas(caseName);
            try (LoraSelection s = LoraFixtures.select(LoraFixtures.golden(caseName, scale))) {
                Map<String, float[]> got = deltas(s);
                assertEquals(ref.size(), got.size(), caseName);
                for (Contribution c : s.plan(Component.TRANSFORMER).contributions()) {
                    Npy.NpyArray r = ref.get(c.target().modulePath());
                    float[] torch = r.toFloatTensor().data();        // out × in
                    int out = (int) r.shape()[0];
                    int in = (int) r.shape()[1];
                    float[] mine = got.get(c.weight().weight().name());   // in × out
                    double worst = 0;
                    for (int o = 0; o < out; o++) {
                        for (int i = 0; i < in; i++) {
                            worst = Math.max(worst, Math.abs(mine[i * out + o] - torch[o * in + i]));
                        }
                    }
                    assertTrue(worst < 2e-6, caseName + " " + c.target().modulePath() + ": " + worst);
                }
            }
        }
    }

    @Test
    void kohyaLayoutWithFusedQkvGivesBitIdenticalWeights() throws Exception {
        for (String caseName : List.of("sd3_lora_rank4", "sd3_lora_rank8_scale1")) {
            LoraSpec peft = LoraFixtures.golden(caseName, 0.8);
            Path kohya = LoraTestFiles.toKohya(peft.file(), tmp.resolve(caseName + "-kohya.safetensors"));
            try (LoraSelection a = LoraFixtures.select(peft);
                 LoraSelection b = LoraFixtures.select(new LoraSpec(kohya, 0.8))) {
                assertTrue(b.report().files().getFirst().unmatched().isEmpty(), b.report().describe());
                Map<String, float[]> da = deltas(a);
                Map<String, float[]> db = deltas(b);
                assertEquals(da.keySet(), db.keySet());
                da.forEach((name, d) -> assertArrayEquals(d, db.get(name), caseName + " " + name));
            }
        }
    }

    @Test
    void severalLorasOnOneLayerAddUp() throws Exception {
        try (LoraSelection one = LoraFixtures.select(LoraFixtures.golden("sd3_lora_rank4", 0.8));
             LoraSelection two = LoraFixtures.select(LoraFixtures.golden("sd3_lora_rank4", 0.5),
                     LoraFixtures.golden("sd3_lora_rank4", 0.3))) {
            Map<String, float[]> d1 = deltas(one);
            Map<String, float[]> d2 = deltas(two);
            assertEquals(d1.keySet(), d2.keySet());
            d1.forEach((name, d) -> {
                for (int i = 0; i < d.length; i++) {
                    assertEquals(d[i], d2.get(name)[i], 1e-5, name);
                }
            });
        }
    }

    @Test
    void gemmWeightsInTorchLayoutAndSwappedAdaLnHalves() throws Exception {
        // a kohya LoRA on the last block's context adaLN (2 chunks: SD3 original (shift, scale) vs diffusers
        // (scale, shift)) and on a torch-layout Gemm: rank 1, A = e_0, B = row index, so delta[o][0] = B[row(o)].
        int hidden = 32;
        float[] a = new float[hidden];
        a[0] = 1;
        float[] b = new float[2 * hidden];
        for (int i = 0; i < b.length; i++) {
            b[i] = i + 1;
        }
        Path f = LoraTestFiles.writeF32(tmp.resolve("ada.safetensors"), Map.of(
                "lora_unet_joint_blocks_1_context_block_adaLN_modulation_1.lora_down.weight",
                new LoraTestFiles.T(new long[] {1, hidden}, a),
                "lora_unet_joint_blocks_1_context_block_adaLN_modulation_1.lora_up.weight",
                new LoraTestFiles.T(new long[] {2 * hidden, 1}, b)));
        try (LoraSelection s = LoraFixtures.select(new LoraSpec(f, 1.0))) {
            Contribution c = s.plan(Component.TRANSFORMER).contributions().getFirst();
            assertEquals(OnnxWeights.Layout.OUT_IN, c.weight().layout());
            float[] delta = deltas(s).get(c.weight().weight().name());   // out × in = 64 × 32
            assertEquals(hidden + 1, delta[0], "row 0 (scale) takes the original's second half");
            assertEquals(1, delta[hidden * hidden], "row 32 (shift) takes the original's first half");
            assertEquals(0, delta[1]);
        }
    }

    @Test
    void float16WeightsAreMergedAndStoredAsFloat16() throws Exception {
        float[] w = {0.5f, -1f, 2f, 0.25f};
        Path model = TinyOnnx.linear(tmp.resolve("m"), "/lin/MatMul", w, 2, 2, false);
        OnnxWeights g = OnnxWeights.read(model);
        OnnxWeights.LinearWeight lin = g.byModulePath("lin").getFirst();
        OnnxWeights.Initializer half = new OnnxWeights.Initializer(lin.weight().name(), OnnxWeights.FLOAT16,
                lin.weight().dims(), writeHalf(tmp.resolve("w16.bin"), w), 0, 8, false);
        OnnxWeights.LinearWeight lin16 = new OnnxWeights.LinearWeight(lin.node(), lin.modulePath(), half, lin.layout());
        Path lora = LoraTestFiles.writeF32(tmp.resolve("l.safetensors"), Map.of(
                "transformer.lin.lora_A.weight", new LoraTestFiles.T(new long[] {1, 2}, new float[] {1, 0}),
                "transformer.lin.lora_B.weight", new LoraTestFiles.T(new long[] {2, 1}, new float[] {1, 2})));
        try (LoraFile file = LoraFile.open(lora)) {
            LoraModule m = file.keys().modules().getFirst();
            Contribution c = new Contribution(file, m, m.targets().getFirst(), lin16, 1, 1.0);
            try (MergedWeights merged = LoraMerge.merge(List.of(c))) {
                MergedWeights.Weight out = merged.weights().getFirst();
                assertTrue(out.half());
                ByteBuffer d = out.data().duplicate().order(ByteOrder.nativeOrder());
                float[] got = new float[4];
                for (int i = 0; i < 4; i++) {
                    got[i] = Float.float16ToFloat(d.getShort());
                }
                // delta (out × in) = B @ A = [[1, 0], [2, 0]]; stored in × out: [[1, 2], [0, 0]]
                assertArrayEquals(new float[] {1.5f, 1f, 2f, 0.25f}, got);
            }
        }
    }

    private static Path writeHalf(Path file, float[] v) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putShort(Float.floatToFloat16(f));
        }
        return java.nio.file.Files.write(file, b.array());
    }
}
