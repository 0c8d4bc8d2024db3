package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.LoraReport;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.lora.LoraTestFiles;
import dev.sd3studio.engine.pipeline.LoraGoldensTest.Recorder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LoRA goldens on checkpoints: the float32 diffusers folder holds the ONNX tiny-sd3's weights bit for bit,
 * so a LoRA merged into its built graph must give diffusers' image within the ONNX path's own tolerance; the
 * float16 single file (original naming, q|k|v fused) must take the same LoRA and change its image as much.
 */
class CheckpointLoraGoldensTest {
    /** LoraGoldensTest's bar for the same cases on the ONNX export. */
    private static final float IMAGE_TOL = 1e-4f;
    private static final Path FP32 = Fixtures.root().resolve("checkpoints/tiny-sd3-diffusers-fp32");
    private static final Path BF16 = Fixtures.root().resolve("checkpoints/tiny-sd3-diffusers-bf16");
    private static final Path FP16 = Fixtures.root().resolve("checkpoints/tiny-sd3-comfy-fp16/tiny-sd3.safetensors");

    @TempDir
    Path tmp;

    @AfterAll
    static void close() {
        CheckpointGoldensTest.closeAll();
    }

    private static LoraSpec lora(String caseName, double scale) {
        return new LoraSpec(LoraTestFiles.caseDir(caseName).resolve("lora.safetensors"), scale);
    }

    private static float[] generate(Path model, String caseName, Recorder rec, LoraSpec... loras) throws Exception {
        GenerationRequest r = Fixtures.request(LoraTestFiles.caseDir(caseName), true).toBuilder()
                .optLoras(List.of(loras)).build();
        return CheckpointGoldensTest.pipeline(model).generate(r, rec, CancelToken.none()).images().data();
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
    void theLoraGoldensPassOnTheCheckpointOfTheSameWeights(String caseName) throws Exception {
        Recorder rec = new Recorder();
        float[] image = generate(FP32, caseName, rec, lora(caseName, caseName.equals("sd3_lora_rank4") ? 0.8 : 1.0));
        float err = maxDiff(image, LoraTestFiles.npy(LoraTestFiles.caseDir(caseName), "image").data());
        System.out.printf("checkpoint LoRA golden %-22s image max abs error %.2e%n", caseName, err);
        assertTrue(err < IMAGE_TOL, caseName + ": " + err);
        assertTrue(rec.stages.stream().anyMatch(s -> s.startsWith("merge ") && s.endsWith("into transformer")), rec.stages.toString());
        assertTrue(rec.warnings.isEmpty(), rec.warnings.toString());
        float[] noLora = LoraTestFiles.npy(LoraTestFiles.caseDir(caseName), "image_no_lora").data();
        assertTrue(maxDiff(image, noLora) > 0.05, "the LoRA changes the picture");
    }

    @Test
    void theReportListsTheCheckpointLayersByTheirDiffusersNames() throws Exception {
        for (Path model : List.of(FP32, FP16)) {
            LoraReport report = CheckpointGoldensTest.pipeline(model).loraReport(List.of(lora("sd3_lora_rank4", 0.8)));
            LoraReport.FileReport f = report.files().getFirst();
            assertEquals(List.of(), f.unmatched(), model + ": " + report.describe());
            assertEquals(15, f.matched().size(), report.describe());
            var layers = new TreeSet<String>();
            f.matched().forEach(m -> layers.add(m.layer()));
            assertTrue(layers.contains("transformer_blocks.0.attn.to_q") && layers.contains("transformer_blocks.1.attn.add_v_proj")
                    && layers.contains("transformer_blocks.0.attn.to_out.0"), layers.toString());
            assertTrue(f.matched().stream().anyMatch(m -> m.node().equals("/transformer_blocks.0/attn/to_q/Gemm")),
                    report.describe());
        }
    }

    @Test
    void anSd3OriginalLoraWithFusedQkvGivesTheSameImageAsItsPeftForm() throws Exception {
        Path kohya = LoraTestFiles.toKohya(lora("sd3_lora_rank8_scale1", 1).file(), tmp.resolve("kohya.safetensors"));
        float[] peft = generate(FP32, "sd3_lora_rank8_scale1", new Recorder(), lora("sd3_lora_rank8_scale1", 1.0));
        Recorder rec = new Recorder();
        float[] fromKohya = generate(FP32, "sd3_lora_rank8_scale1", rec, new LoraSpec(kohya, 1.0));
        assertTrue(rec.warnings.isEmpty(), rec.warnings.toString());
        assertArrayEquals(peft, fromKohya);
    }

    /**
     * The float16 single file is not the float32 pipeline rounded: it loads CLIP-L without its projection, as ComfyUI
     * does, so its base image is its own (CheckpointGoldensTest holds it to diffusers on that file). Its merged weights
     * equal the float32 merge to float16 precision (graph.CheckpointLoraTest); here the LoRA must run on it and move
     * its image by about what it moves the float32 one (0.096): within a factor 2, since the conditioning differs.
     */
    @Test
    void aLoraOnAFloat16CheckpointChangesItsImageAsOnTheFloat32One() throws Exception {
        String caseName = "sd3_lora_rank4";
        Path dir = LoraTestFiles.caseDir(caseName);
        float change32 = maxDiff(LoraTestFiles.npy(dir, "image").data(), LoraTestFiles.npy(dir, "image_no_lora").data());
        float[] base16 = generate(FP16, caseName, new Recorder());
        Recorder rec = new Recorder();
        float[] lora16 = generate(FP16, caseName, rec, lora(caseName, 0.8));
        assertTrue(rec.warnings.isEmpty(), rec.warnings.toString());
        assertTrue(rec.stages.stream().anyMatch(s -> s.startsWith("merge 15 LoRA layers into transformer")), rec.stages.toString());
        float change16 = maxDiff(lora16, base16);
        System.out.printf("fp16 checkpoint: the LoRA changes the image by %.4f (fp32: %.4f)%n", change16, change32);
        assertTrue(change16 > change32 / 2 && change16 < change32 * 2, "change " + change16 + " vs " + change32);
    }

    /**
     * The bfloat16 diffusers folder is the float32 pipeline with rounded weights: its base image lies e from the
     * float32 reference, and its LoRA image must lie about as far from diffusers' float32 LoRA image (the merged
     * weights are those of the float32 merge to bfloat16 precision, graph.CheckpointLoraTest): within 2·e.
     */
    @Test
    void aLoraOnABfloat16CheckpointStaysAsCloseToTheReferenceAsItsBaseImage() throws Exception {
        String caseName = "sd3_lora_rank4";
        Path dir = LoraTestFiles.caseDir(caseName);
        float e = maxDiff(generate(BF16, caseName, new Recorder()), LoraTestFiles.npy(dir, "image_no_lora").data());
        Recorder rec = new Recorder();
        float[] lora = generate(BF16, caseName, rec, lora(caseName, 0.8));
        assertTrue(rec.warnings.isEmpty(), rec.warnings.toString());
        float err = maxDiff(lora, LoraTestFiles.npy(dir, "image").data());
        System.out.printf("bf16 checkpoint: base image vs fp32 reference %.2e, LoRA image vs fp32 LoRA reference %.2e%n", e, err);
        assertTrue(err <= 2 * e, "LoRA image " + err + " from the reference, base image " + e);
    }

    /**
     * Layers the goldens' LoRAs leave alone, the modulations (which the built graph cuts into row ranges, the last
     * block's and the final one of 2 chunks) and the embedders, MLP and output among them: a LoRA on each gives the
     * checkpoint the export's image, within the goldens' tolerance, since both hold the same weights.
     */
    @Test
    void aLoraOnModulationsEmbeddersAndMlpsGivesTheExportsImage() throws Exception {
        LoraSpec spec = new LoraSpec(LoraTestFiles.everyKindOfLayer(tmp.resolve("every-kind.safetensors")), 1.0);
        LoraReport report = CheckpointGoldensTest.pipeline(FP32).loraReport(List.of(spec));
        assertEquals(List.of(), report.files().getFirst().unmatched(), report.describe());
        Recorder rec = new Recorder();
        float[] checkpoint = generate(FP32, "sd3_lora_rank4", rec, spec);
        assertTrue(rec.warnings.isEmpty(), rec.warnings.toString());
        float[] exported;
        try (Sd3Pipeline onnx = Sd3Pipeline.open(Fixtures.model("tiny-sd3"), dev.sd3studio.engine.api.EngineOptions.defaults())) {
            GenerationRequest r = Fixtures.request(LoraTestFiles.caseDir("sd3_lora_rank4"), true).toBuilder()
                    .optLoras(List.of(spec)).build();
            exported = onnx.generate(r, new Recorder(), CancelToken.none()).images().data();
        }
        float err = maxDiff(checkpoint, exported);
        float change = maxDiff(checkpoint, LoraTestFiles.npy(LoraTestFiles.caseDir("sd3_lora_rank4"), "image_no_lora").data());
        System.out.printf("LoRA on every kind of layer: checkpoint vs export %.2e, change %.4f%n", err, change);
        assertTrue(err < IMAGE_TOL, "checkpoint vs export: " + err);
        assertTrue(change > 0.02, "the LoRA changes the picture: " + change);
    }

    @Test
    void aTextEncoderLoraChangesTheCheckpointsPromptEmbeddings() throws Exception {
        Path te = LoraTestFiles.clipLQueryLora(tmp.resolve("te.safetensors"));
        Recorder base = new Recorder();
        generate(FP16, "sd3_lora_rank4", base);
        Recorder with = new Recorder();
        generate(FP16, "sd3_lora_rank4", with, new LoraSpec(te, 1.0));
        assertTrue(with.warnings.isEmpty(), with.warnings.toString());
        assertEquals(List.of("text_encoder"), with.loads(), with.stages.toString());
        assertTrue(maxDiff(base.tensors.get("prompt_embeds").data(), with.tensors.get("prompt_embeds").data()) > 1e-3);
    }
}
