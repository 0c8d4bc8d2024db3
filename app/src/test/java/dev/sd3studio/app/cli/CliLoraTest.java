package dev.sd3studio.app.cli;

import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.studio.Fixtures;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
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

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Cli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(exit, out.toString(), err.toString());
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
        Run r = run(args(png, npy, lora + ":0.8", "--lora-report"));
        assertEquals(0, r.exit(), r.err());
        FloatTensor image = Npy.readFloat(npy);
        assertTrue(image.maxAbsDifference(Npy.readFloat(CASE.resolve("image.npy"))) < 1e-4f);
        assertTrue(r.err().contains("LoRA lora.safetensors:0.8: 15 layers changed"), r.err());
        assertTrue(r.err().contains("transformer.transformer_blocks.1.attn.to_v -> transformer transformer_blocks.1.attn.to_v"
                + " (/m/transformer_blocks.1/attn/to_v/MatMul)"), r.err());
        Map<String, String> text = PngFiles.readText(png);
        assertEquals(lora.toAbsolutePath() + ":0.8", PngMetadata.decode(text.get(PngMetadata.OURS)).get("loras"));
        assertTrue(text.get(PngMetadata.PARAMETERS).endsWith(", LoRAs: \"lora.safetensors:0.8\""), text.get(PngMetadata.PARAMETERS));
    }

    @Test
    void unusableLorasAreOneLineAndWriteNothing(@TempDir Path tmp) throws Exception {
        Path pickle = Files.write(tmp.resolve("lora.pt"), new byte[] {(byte) 0x80, 2, ']', 'q'});
        Path png = tmp.resolve("x.png");
        for (String lora : new String[] {pickle.toString(), tmp.resolve("missing.safetensors").toString(),
                CASE.resolve("lora.safetensors") + ":0.8.1"}) {
            Run r = run(args(png, tmp.resolve("x.npy"), lora));
            assertTrue(r.exit() != 0, lora);
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
            assertFalse(Files.exists(png));
        }
        Run r = run(args(png, tmp.resolve("x.npy"), pickle.toString()));
        assertTrue(r.err().contains("pickled PyTorch file"), r.err());
    }
}
