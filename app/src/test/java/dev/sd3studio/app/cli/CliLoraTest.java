package dev.sd3studio.app.cli;

import dev.sd3studio.app.gallery.FileHashes;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.Fixtures;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.Npy;
import dev.sd3studio.engine.api.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --lora FILE[:SCALE]}: the LoRA golden through the command line, recorded in the PNG, and refusals. */
class CliLoraTest {
    private static final Path MODEL = Fixtures.root().resolve("models/tiny-sd3");
    private static final Path CASE = Fixtures.root().resolve("goldens-lora/sd3_lora_rank4");

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static String[] args(Path png, Path npy, String lora, String... extra) {
        String[] base = {"generate", "--model", MODEL.toString(), "--prompt", "a photo of a cat sitting on a red sofa",
                "--width", "64", "--height", "64", "--steps", "4", "--guidance", "7",
                "--latents", CASE.resolve("noise_latents.npy").toString(), "--lora", lora,
                "--out", png.toString(), "--out-npy", npy.toString()};
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void loraGoldenThroughTheCommandLineIsRecordedInThePng(@TempDir Path tmp) throws Exception {
        Path png = tmp.resolve("lora.png");
        Path npy = tmp.resolve("lora.npy");
        Path lora = CASE.resolve("lora.safetensors");
        CliRun r = run(args(png, npy, lora + ":0.8", "--lora-report"));
        assertEquals(0, r.exit(), r.err());
        FloatTensor image = Npy.readFloat(npy);
        assertTrue(image.maxAbsDifference(Npy.readFloat(CASE.resolve("image.npy"))) < 1e-4f);
        assertTrue(r.err().contains("LoRA lora.safetensors:0.8: 15 layers changed"), r.err());
        assertTrue(r.err().contains("transformer.transformer_blocks.1.attn.to_v -> transformer transformer_blocks.1.attn.to_v"
                + " (/m/transformer_blocks.1/attn/to_v/MatMul)"), r.err());
        Map<String, String> text = PngFiles.readText(png);
        assertEquals("lora.safetensors:0.8 sha256=" + FileHashes.shared().sha256(lora),
                PngMetadata.decode(text.get(PngMetadata.OURS)).get("loras"), "the name and hash, not the maker's folders");
        assertTrue(text.get(PngMetadata.PARAMETERS).endsWith(", LoRAs: \"lora.safetensors:0.8\""), text.get(PngMetadata.PARAMETERS));
    }

    @Test
    void unusableLorasAreOneLineAndWriteNothing(@TempDir Path tmp) throws Exception {
        Path pickle = Files.write(tmp.resolve("lora.pt"), new byte[] {(byte) 0x80, 2, ']', 'q'});
        Path png = tmp.resolve("x.png");
        for (String lora : new String[] {pickle.toString(), tmp.resolve("missing.safetensors").toString(),
                CASE.resolve("lora.safetensors") + ":0.8.1"}) {
            CliRun r = run(args(png, tmp.resolve("x.npy"), lora));
            assertTrue(r.exit() != 0, lora);
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
            assertFalse(Files.exists(png));
        }
        CliRun r = run(args(png, tmp.resolve("x.npy"), pickle.toString()));
        assertTrue(r.err().contains("pickled PyTorch file"), r.err());
    }

    @Test
    void fromPngFindsThePicturesLoraInTheLoraFoldersOnlyAndNeverOpensAPathItNames(@TempDir Path tmp) throws Exception {
        String previous = System.getProperty(AppDirs.PROPERTY);
        System.setProperty(AppDirs.PROPERTY, tmp.resolve("home").toString()); // no studio settings to remember folders
        try {
            Path lora = CASE.resolve("lora.safetensors");
            String sha = FileHashes.shared().sha256(lora);
            Path png = tmp.resolve("shared.png"); // as a picture made with that LoRA records it
            PngFiles.write(png, new RgbImage(8, 8, new float[8 * 8 * 3]), Map.of(PngMetadata.OURS,
                    "prompt=x\nsteps=1\nguidance=1.0\nwidth=64\nheight=64\nseed=1\nloras=lora.safetensors:0.8 sha256="
                            + sha + "\n"));

            CliRun refused = run("generate", "--model", MODEL.toString(), "--from-png", png.toString(), "--out",
                    tmp.resolve("a.png").toString());
            assertEquals(Cli.EXIT_USAGE, refused.exit(), refused.err());
            assertTrue(refused.err().contains("LoRA 'lora.safetensors' (sha256 " + sha.substring(0, 8)
                    + "…) is not in your LoRA folders") && refused.err().contains("--lora-dir"), refused.err());
            assertEquals(1, refused.err().strip().lines().count(), refused.err());
            assertFalse(Files.exists(tmp.resolve("a.png")));

            CliRun found = run("generate", "--model", MODEL.toString(), "--from-png", png.toString(), "--lora-dir",
                    tmp.toString(), "--lora-dir", CASE.toString(), "--out", tmp.resolve("b.png").toString());
            assertEquals(0, found.exit(), found.err());
            assertTrue(found.err().contains("LoRA lora.safetensors:0.8: 15 layers changed"), found.err());

            // An older picture, or a crafted one, that names a LoRA by its full path: not used, not opened.
            Path crafted = tmp.resolve("crafted.png");
            PngFiles.write(crafted, new RgbImage(8, 8, new float[8 * 8 * 3]), Map.of(PngMetadata.OURS,
                    "prompt=x\nsteps=1\nguidance=1.0\nwidth=64\nheight=64\nseed=1\nloras=" + lora.toAbsolutePath()
                            + ":1.0\\n/etc/passwd:1.0\n"));
            CliRun old = run("generate", "--model", MODEL.toString(), "--from-png", crafted.toString(), "--out",
                    tmp.resolve("c.png").toString());
            assertEquals(Cli.EXIT_USAGE, old.exit(), old.err());
            assertTrue(old.err().contains("LoRAs 'lora.safetensors', 'passwd' are not in your LoRA folders"), old.err());
            assertFalse(old.err().contains("valid .safetensors"), "/etc/passwd was not read: " + old.err());
        } finally {
            if (previous == null) {
                System.clearProperty(AppDirs.PROPERTY);
            } else {
                System.setProperty(AppDirs.PROPERTY, previous);
            }
        }
    }
}
