package dev.sd3studio.engine.checkpoint;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.format.SafetensorsDType;
import dev.sd3studio.engine.format.SafetensorsHeader;
import dev.sd3studio.engine.format.StoredTensor;
import dev.sd3studio.engine.format.TestSafetensors;
import dev.sd3studio.engine.format.TestSafetensors.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.sd3studio.engine.checkpoint.CheckpointComponent.CLIP_G;
import static dev.sd3studio.engine.checkpoint.CheckpointComponent.CLIP_L;
import static dev.sd3studio.engine.checkpoint.CheckpointComponent.T5;
import static dev.sd3studio.engine.checkpoint.CheckpointComponent.TRANSFORMER;
import static dev.sd3studio.engine.checkpoint.CheckpointComponent.VAE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each fixture format opens to the right weights; each kind of wrong input is refused by name (issue 20). */
class CheckpointOpenerTest {
    @TempDir
    Path tmp;

    private static Path fixture(String name) {
        return Fixtures.root().resolve("checkpoints").resolve(name);
    }

    @Test
    void aSingleFileWithTextEncodersInsideMapsEveryComponentIntoThatFile() throws Exception {
        Path file = fixture("tiny-sd35-sai-fp32/tiny-sd35.safetensors");
        Checkpoint c = CheckpointOpener.open(file, CheckpointOptions.NONE);
        assertEquals(CheckpointFormat.SINGLE_FILE, c.format());
        assertTrue(c.family().isEmpty(), "a tiny test model is none of the released families");
        assertTrue(c.clipLIdentityProjection());
        Path real = file.toRealPath();
        for (CheckpointComponent comp : CheckpointComponent.values()) {
            ComponentWeights w = c.require(comp);
            assertTrue(w.weights().values().stream().allMatch(r -> r.file().equals(real)), comp.name());
            assertTrue(w.weights().values().stream().allMatch(r -> r.dtype() == SafetensorsDType.F32), comp.name());
        }
        assertEquals(WeightNaming.ORIGINAL, c.require(TRANSFORMER).naming());
        assertTrue(c.require(TRANSFORMER).has("joint_blocks.0.x_block.attn2.qkv.weight"));
        assertTrue(c.require(VAE).has("decoder.up.0.block.0.conv1.weight"));
        // the prefix is gone, the byte range is the header's
        SafetensorsHeader h = SafetensorsHeader.read(file, "test");
        StoredTensor stored = h.tensors().get("text_encoders.clip_l.transformer.text_model.embeddings.token_embedding.weight");
        WeightRef ref = c.require(CLIP_L).require("text_model.embeddings.token_embedding.weight");
        assertEquals(stored.offset(), ref.offset());
        assertEquals(stored.length(), ref.length());
        assertTrue(c.require(T5).has("shared.weight"));
        assertFalse(c.require(T5).has("encoder.embed_tokens.weight"), "the tied embedding is stored once");
        assertTrue(c.configs().find(TRANSFORMER).orElseThrow().source().contains("config"));
    }

    @Test
    void separateEncoderFilesBesideTheCheckpointAreFoundWithTheirDtypes() throws Exception {
        Checkpoint fp16 = CheckpointOpener.open(fixture("tiny-sd3-comfy-fp16/tiny-sd3.safetensors"), CheckpointOptions.NONE);
        assertEquals("clip_l.safetensors", anyFile(fp16, CLIP_L).getFileName().toString());
        assertEquals("clip_g.safetensors", anyFile(fp16, CLIP_G).getFileName().toString());
        assertEquals("t5xxl_fp16.safetensors", anyFile(fp16, T5).getFileName().toString());
        assertTrue(fp16.require(T5).weights().values().stream().allMatch(r -> r.dtype() == SafetensorsDType.F16));
        assertTrue(fp16.clipLIdentityProjection());

        Checkpoint fp8 = CheckpointOpener.open(fixture("tiny-sd35-comfy-fp16-t5fp8/tiny-sd35.safetensors"),
                CheckpointOptions.NONE);
        assertEquals("t5xxl_fp8_e4m3fn.safetensors", anyFile(fp8, T5).getFileName().toString());
        assertTrue(fp8.require(T5).weights().values().stream().allMatch(r -> r.dtype() == SafetensorsDType.F8_E4M3));
        assertTrue(fp8.require(TRANSFORMER).weights().values().stream().allMatch(r -> r.dtype() == SafetensorsDType.F16));
    }

    @Test
    void aDiffusersFolderUsesItsOwnNamesConfigsAndClipLProjection() throws Exception {
        for (String name : List.of("tiny-sd3-diffusers-bf16", "tiny-sd3-diffusers-fp32")) {
            Checkpoint c = CheckpointOpener.open(fixture(name), CheckpointOptions.NONE);
            assertEquals(CheckpointFormat.DIFFUSERS_FOLDER, c.format());
            assertFalse(c.clipLIdentityProjection(), "a diffusers text_encoder applies its projection");
            assertEquals(WeightNaming.DIFFUSERS, c.require(TRANSFORMER).naming());
            assertTrue(c.require(TRANSFORMER).has("transformer_blocks.0.attn.to_q.weight"));
            assertTrue(c.require(CLIP_L).has("text_projection.weight"));
            SafetensorsDType expected = name.endsWith("bf16") ? SafetensorsDType.BF16 : SafetensorsDType.F32;
            assertEquals(expected, c.require(VAE).weights().values().iterator().next().dtype());
            assertTrue(c.configs().find(VAE).orElseThrow().source().endsWith("vae/config.json"));
        }
    }

    @Test
    void aDiffusersFolderWithOnlyTheFp16VariantFilesOpens() throws Exception {
        Path folder = tmp.resolve("variant");
        copyTree(fixture("tiny-sd3-diffusers-bf16"), folder);
        for (String part : List.of("transformer/diffusion_pytorch_model", "vae/diffusion_pytorch_model",
                "text_encoder/model", "text_encoder_2/model", "text_encoder_3/model")) {
            Files.move(folder.resolve(part + ".safetensors"), folder.resolve(part + ".fp16.safetensors"));
        }
        Checkpoint c = CheckpointOpener.open(folder, CheckpointOptions.NONE);
        assertTrue(c.require(TRANSFORMER).weights().values().iterator().next().file().getFileName().toString()
                .equals("diffusion_pytorch_model.fp16.safetensors"));
        assertTrue(c.find(T5).isPresent(), "the T5's variant file is found too");
    }

    @Test
    void withoutAConfigAnUnknownModelAsksForOne_andAnExplicitConfigFolderIsUsed() throws Exception {
        Path file = copy(fixture("tiny-sd35-sai-fp32/tiny-sd35.safetensors"), tmp.resolve("m/tiny.safetensors"));
        EngineException e = assertThrows(EngineException.class, () -> CheckpointOpener.open(file, CheckpointOptions.NONE));
        assertEquals(Kind.UNKNOWN_LAYOUT, e.kind());
        assertTrue(e.getMessage().contains("config/ folder"), e.getMessage());

        Path config = fixture("tiny-sd35-sai-fp32/config");
        Checkpoint c = CheckpointOpener.open(file, CheckpointOptions.NONE.withConfigDir(config));
        assertTrue(c.configs().find(TRANSFORMER).orElseThrow().source().startsWith(config.toString()));
    }

    @Test
    void aConfigThatContradictsTheWeightsIsRefused() throws Exception {
        // the SD3 (no QK-norm) config beside an SD3.5 file
        Path file = copy(fixture("tiny-sd35-sai-fp32/tiny-sd35.safetensors"), tmp.resolve("m/tiny.safetensors"));
        EngineException e = assertThrows(EngineException.class, () -> CheckpointOpener.open(file,
                CheckpointOptions.NONE.withConfigDir(fixture("tiny-sd3-comfy-fp16/config"))));
        assertEquals(Kind.INCOMPATIBLE_MODEL, e.kind());
        assertTrue(e.getMessage().contains("qk_norm"), e.getMessage());
    }

    @Test
    void aTextEncoderInTheWrongSlotIsRefused() throws Exception {
        Path dir = fixture("tiny-sd3-comfy-fp16");
        EngineException e = assertThrows(EngineException.class, () -> CheckpointOpener.open(
                dir.resolve("tiny-sd3.safetensors"),
                CheckpointOptions.NONE.withClipL(dir.resolve("text_encoders/clip_g.safetensors"))));
        assertEquals(Kind.INCOMPATIBLE_MODEL, e.kind());
        assertTrue(e.getMessage().contains("CLIP-L") && e.getMessage().contains("hidden_size"), e.getMessage());
    }

    @Test
    void aMissingT5OffersDropT5_aMissingClipIsRefused() throws Exception {
        Path src = fixture("tiny-sd3-comfy-fp16");
        Path file = copy(src.resolve("tiny-sd3.safetensors"), tmp.resolve("m/tiny-sd3.safetensors"));
        copyTree(src.resolve("config"), tmp.resolve("m/config"));
        copy(src.resolve("text_encoders/clip_l.safetensors"), tmp.resolve("m/text_encoders/clip_l.safetensors"));
        EngineException noClipG = assertThrows(EngineException.class, () -> CheckpointOpener.open(file, CheckpointOptions.NONE));
        assertEquals(Kind.MISSING_COMPONENT, noClipG.kind());
        assertTrue(noClipG.getMessage().contains("clip_g.safetensors"), noClipG.getMessage());

        copy(src.resolve("text_encoders/clip_g.safetensors"), tmp.resolve("m/text_encoders/clip_g.safetensors"));
        Checkpoint c = CheckpointOpener.open(file, CheckpointOptions.NONE);
        assertTrue(c.find(T5).isEmpty());
        EngineException noT5 = assertThrows(EngineException.class, () -> c.require(T5));
        assertEquals(Kind.MISSING_COMPONENT, noT5.kind());
        assertTrue(noT5.getMessage().contains("drop T5"), noT5.getMessage());
    }

    @Test
    void aSymlinkLeadingOutOfTheModelFolderIsRefused() throws Exception {
        Path src = fixture("tiny-sd3-comfy-fp16");
        Path file = copy(src.resolve("tiny-sd3.safetensors"), tmp.resolve("m/tiny-sd3.safetensors"));
        copyTree(src.resolve("config"), tmp.resolve("m/config"));
        copy(src.resolve("text_encoders/clip_g.safetensors"), tmp.resolve("m/text_encoders/clip_g.safetensors"));
        Path outside = copy(src.resolve("text_encoders/clip_l.safetensors"), tmp.resolve("elsewhere/clip_l.safetensors"));
        Files.createSymbolicLink(tmp.resolve("m/text_encoders/clip_l.safetensors"), outside);
        EngineException e = assertThrows(EngineException.class, () -> CheckpointOpener.open(file, CheckpointOptions.NONE));
        assertTrue(e.getMessage().contains("outside the model"), e.getMessage());
    }

    @Test
    void otherFamiliesAreRefusedByName() throws Exception {
        assertRefused(header("sdxl.safetensors", "conditioner.embedders.0.transformer.x"), "this is an SDXL checkpoint; SD3 Studio runs SD3 and SD3.5");
        assertRefused(header("sd15.safetensors", "cond_stage_model.transformer.x"), "this is an SD1.x or SD2.x checkpoint");
        assertRefused(header("flux.safetensors", "double_blocks.0.img_attn.qkv.weight"), "this is a Flux checkpoint");
        assertRefused(header("flux2.safetensors", "model.diffusion_model.double_blocks.0.x"), "this is a Flux checkpoint");
        assertRefused(header("lora.safetensors", "transformer.a.lora_A.weight"), "is a LoRA");
        assertRefused(header("clip.safetensors", "text_model.embeddings.token_embedding.weight"), "not an SD3 checkpoint");
    }

    @Test
    void picklesAreRefusedWithoutBeingRead() throws Exception {
        Path ckpt = Files.write(tmp.resolve("model.ckpt"), new byte[] {(byte) 0x80, 2, 'c'});
        assertRefused(ckpt, "pickled PyTorch file");
        assertRefused(Files.write(tmp.resolve("renamed.safetensors"), new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}),
                "pickled PyTorch file");
        Path folder = tmp.resolve("diffusers");
        Files.createDirectories(folder.resolve("transformer"));
        Files.writeString(folder.resolve("model_index.json"), "{}");
        Files.write(folder.resolve("transformer/diffusion_pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        assertRefused(folder, "pickled PyTorch files");
    }

    @Test
    void anUnknownDtypeIsNamed() throws Exception {
        Path f = TestSafetensors.write(tmp.resolve("odd.safetensors"), List.of(
                Tensor.zeros("model.diffusion_model.x_embedder.proj.weight", "F8_E8M0", 1, 4, 16, 2, 2),
                Tensor.zeros("first_stage_model.decoder.conv_in.weight", "F32", 4, 1)));
        assertRefused(f, "stored as F8_E8M0");
    }

    private void assertRefused(Path file, String part) {
        EngineException e = assertThrows(EngineException.class, () -> CheckpointOpener.open(file, CheckpointOptions.NONE));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    private Path header(String name, String key) throws IOException {
        return TestSafetensors.write(tmp.resolve(name), List.of(Tensor.zeros(key, "F16", 2, 2, 2)));
    }

    private static Path anyFile(Checkpoint c, CheckpointComponent comp) throws EngineException {
        return c.require(comp).weights().values().iterator().next().file();
    }

    private static Path copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        return Files.copy(from, to);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
