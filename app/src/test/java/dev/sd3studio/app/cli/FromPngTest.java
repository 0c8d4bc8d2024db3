package dev.sd3studio.app.cli;

import dev.sd3studio.app.BuiltInModel;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.engine.api.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code generate --from-png}: a picture of a batch, made again alone, pixel for pixel, on the demo model. */
class FromPngTest {
    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static int[] pixels(Path png) throws Exception {
        BufferedImage img = ImageIO.read(png.toFile());
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void theThirdPictureOfABatchIsMadeAgainPixelForPixel(@TempDir Path tmp) throws Exception {
        String model = BuiltInModel.find().orElseThrow().toString();
        CliRun batch = run("generate", "--model", model, "--prompt", "a large red circle in the center on a blue background",
                "--images-per-prompt", "3", "--steps", "8", "--seed", "4242", "--out", tmp.resolve("b.png").toString());
        assertEquals(0, batch.exit(), batch.err());
        assertTrue(batch.out().contains("b-2.png (seed 4242, image 3 of 3)"), batch.out());
        assertTrue(batch.err().isEmpty(), "no progress when stderr is not a terminal: " + batch.err());
        Map<String, String> meta = PngMetadata.decode(PngFiles.readText(tmp.resolve("b-2.png")).get(PngMetadata.OURS));
        assertEquals("3", meta.get("batch_size"));
        assertEquals("2", meta.get("batch_index"));

        CliRun again = run("generate", "--from-png", tmp.resolve("b-2.png").toString(), "--out", tmp.resolve("r.png").toString(),
                "--quiet");
        assertEquals(0, again.exit(), again.err());
        assertEquals("", again.out(), "--quiet prints nothing");
        assertArrayEquals(pixels(tmp.resolve("b-2.png")), pixels(tmp.resolve("r.png")));
        assertFalse(java.util.Arrays.equals(pixels(tmp.resolve("b-0.png")), pixels(tmp.resolve("r.png"))),
                "not simply the batch's first picture");
        Map<String, String> remade = PngMetadata.decode(PngFiles.readText(tmp.resolve("r.png")).get(PngMetadata.OURS));
        assertEquals(meta, remade, "the copy records the same reproduction recipe");

        CliRun other = run("generate", "--from-png", tmp.resolve("b-2.png").toString(), "--steps", "2", "--out",
                tmp.resolve("o.png").toString());
        assertEquals(0, other.exit(), other.err());
        assertEquals("2", PngMetadata.decode(PngFiles.readText(tmp.resolve("o.png")).get(PngMetadata.OURS)).get("steps"),
                "options given as well win");
    }

    @Test
    void quantizedWeightsAreRecordedInThePicture(@TempDir Path tmp) throws Exception {
        String model = BuiltInModel.find().orElseThrow().toString();
        String before = System.getProperty("sd3studio.quant.cache");
        System.setProperty("sd3studio.quant.cache", tmp.resolve("cache").toString());
        try {
            CliRun int8 = run("generate", "--model", model, "--prompt", "a small green square at the top left on a white background",
                    "--steps", "2", "--seed", "5", "--weights", "int8", "--out", tmp.resolve("q.png").toString());
            assertEquals(0, int8.exit(), int8.err());
            Map<String, String> text = PngFiles.readText(tmp.resolve("q.png"));
            assertEquals("int8", PngMetadata.decode(text.get(PngMetadata.OURS)).get("weights"));
            assertTrue(text.get(PngMetadata.PARAMETERS).contains(", Weights: int8"), text.get(PngMetadata.PARAMETERS));
        } finally {
            if (before == null) {
                System.clearProperty("sd3studio.quant.cache");
            } else {
                System.setProperty("sd3studio.quant.cache", before);
            }
        }
        CliRun stored = run("generate", "--model", model, "--prompt", "a small green square at the top left on a white background",
                "--steps", "2", "--seed", "5", "--out", tmp.resolve("s.png").toString());
        assertEquals(0, stored.exit(), stored.err());
        Map<String, String> text = PngFiles.readText(tmp.resolve("s.png"));
        assertFalse(PngMetadata.decode(text.get(PngMetadata.OURS)).containsKey("weights"), "stored weights are the default");
        assertFalse(text.get(PngMetadata.PARAMETERS).contains("Weights:"));
    }

    @Test
    void tokenizeSummarySaysWhatEachEncoderKeepsAndCuts() {
        String model = BuiltInModel.find().orElseThrow().toString();
        CliRun r = run("tokenize", "--model", model, "--summary", "--prompt", "a large red circle in the center on a blue background");
        assertEquals(0, r.exit(), r.err());
        assertEquals(3, r.out().lines().count(), r.out());
        assertTrue(r.out().lines().allMatch(l -> l.contains("keeps everything")), r.out());
        CliRun cut = run("tokenize", "--model", model, "--summary", "--prompt", "trending on artstation ".repeat(20));
        assertTrue(cut.out().contains("CLIP-L") && cut.out().contains("drops"), cut.out());
        CliRun json = run("tokenize", "--model", model, "--prompt", "a red circle");
        assertTrue(json.out().strip().startsWith("{") && json.out().contains("input_ids"), "piped: JSON as before");
    }

    @Test
    void picturesItCannotRemakeSaySoInOneLine(@TempDir Path tmp) throws Exception {
        Path plain = tmp.resolve("plain.png");
        PngFiles.write(plain, new RgbImage(2, 2, new float[12]), Map.of());
        CliRun r = run("generate", "--from-png", plain.toString(), "--out", tmp.resolve("x.png").toString());
        assertEquals(Cli.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("no SD3 Studio parameters"), r.err());
        assertEquals(1, r.err().strip().lines().count());

        Path img2img = tmp.resolve("i.png");
        PngFiles.write(img2img, new RgbImage(2, 2, new float[12]), Map.of(PngMetadata.OURS,
                "prompt=x\nsteps=2\nguidance=1.0\nwidth=64\nheight=64\nseed=1\nimage_to_image=true\nstrength=0.5\n"));
        r = run("generate", "--from-png", img2img.toString(), "--out", tmp.resolve("y.png").toString());
        assertEquals(Cli.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("--init-image"), r.err());

        r = run("generate", "--out", tmp.resolve("z.png").toString());
        assertEquals(Cli.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("--prompt"), r.err());
    }
}
