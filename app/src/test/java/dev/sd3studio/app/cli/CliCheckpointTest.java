package dev.sd3studio.app.cli;

import dev.sd3studio.app.studio.Fixtures;
import dev.sd3studio.engine.api.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --model FILE.safetensors} through the command line: a checkpoint golden from its seed, check-model's
 * per-component report, and bad files refused in one line that names the problem, with nothing written.
 */
class CliCheckpointTest {
    private static final Path CHECKPOINTS = Fixtures.root().resolve("checkpoints");

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void aSingleFileCheckpointMakesItsGoldenFromTheSeed(@TempDir Path tmp) throws Exception {
        Path golden = Fixtures.root().resolve("goldens-checkpoints/ckpt_sd35_sai_fp32");
        CliRun r = run("generate", "--model", CHECKPOINTS.resolve("tiny-sd35-sai-fp32/tiny-sd35.safetensors").toString(),
                "--prompt", "a cozy cabin in a snowy forest at night", "--width", "64", "--height", "64",
                "--steps", "4", "--guidance", "4.5", "--seed", "21", "--out", tmp.resolve("x.png").toString(),
                "--out-npy", tmp.resolve("x.npy").toString());
        assertEquals(0, r.exit(), r.err());
        float err = Npy.readFloat(tmp.resolve("x.npy")).maxAbsDifference(Npy.readFloat(golden.resolve("image.npy")));
        assertTrue(err <= 1e-3f, "image differs by " + err);
        assertTrue(Files.size(tmp.resolve("x.png")) > 0);
    }

    @Test
    void checkModelListsEachComponentWithItsFileAndType() {
        CliRun r = run("check-model", "--model", CHECKPOINTS.resolve("tiny-sd35-comfy-fp16-t5fp8/tiny-sd35.safetensors").toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("checkpoint (single file)"), r.out());
        assertTrue(r.out().matches("(?s).*transformer\\s+found\\s+safetensors F16 \\(tiny-sd35.safetensors\\).*"), r.out());
        assertTrue(r.out().matches("(?s).*text_encoder_3\\s+found\\s+safetensors F8_E4M3 \\(t5xxl_fp8_e4m3fn.safetensors\\).*"), r.out());
        assertTrue(r.out().contains("result: usable"), r.out());
    }

    @Test
    void badFilesAreOneLineNamingTheProblemAndWriteNothing(@TempDir Path tmp) throws Exception {
        Path sdxl = safetensors(tmp.resolve("sdxl.safetensors"), "conditioner.embedders.0.transformer.x");
        Path lora = safetensors(tmp.resolve("style.safetensors"), "transformer.single.lora_A.weight");
        Path pickle = Files.write(tmp.resolve("model.ckpt"), new byte[] {'P', 'K', 3, 4, 0, 0});
        Path source = CHECKPOINTS.resolve("tiny-sd3-comfy-fp16/tiny-sd3.safetensors");
        byte[] whole = Files.readAllBytes(source);
        Path truncated = Files.write(tmp.resolve("truncated.safetensors"), java.util.Arrays.copyOf(whole, whole.length / 2));
        record Case(Path file, String mentions) {
        }
        for (Case c : new Case[] {new Case(sdxl, "SDXL"), new Case(lora, "LoRA"), new Case(pickle, "pickle"),
                new Case(truncated, "truncated")}) {
            Path png = tmp.resolve("out.png");
            CliRun r = run("generate", "--model", c.file().toString(), "--prompt", "a cat", "--out", png.toString());
            assertTrue(r.exit() != 0, c.file() + " was accepted");
            assertTrue(r.err().strip().lines().count() <= 3, r.err());
            assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
            assertTrue(r.err().toLowerCase().contains(c.mentions().toLowerCase()), c.mentions() + " not in: " + r.err());
            assertFalse(Files.exists(png), "nothing is written for " + c.file());
        }
    }

    /** A valid safetensors file holding one F32 scalar called {@code name}. */
    private static Path safetensors(Path file, String name) throws Exception {
        byte[] header = ("{\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}")
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header).putFloat(1f);
        return Files.write(file, b.array());
    }
}
