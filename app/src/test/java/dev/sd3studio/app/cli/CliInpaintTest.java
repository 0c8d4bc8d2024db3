package dev.sd3studio.app.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sd3studio.app.gallery.MaskCodec;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.studio.Fixtures;
import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.api.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code generate --mask}: the inpainting goldens through the command line, metadata, and named mask errors. */
class CliInpaintTest {
    private static final Path MODEL = Fixtures.tinySd3();
    private static final Path CASE = Fixtures.root().resolve("goldens-inpaint/sd3_inpaint_nonsquare");

    private record Run(int exit, String err) {
    }

    private static Run run(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Cli.run(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
        return new Run(exit, err.toString());
    }

    /** The case's own arguments, as the conformance tool passes them. */
    private static List<String> caseArgs(Path mask) throws Exception {
        JsonNode c = new ObjectMapper().readTree(CASE.resolve("case.json").toFile());
        return new ArrayList<>(List.of("generate", "--model", MODEL.toString(), "--prompt", c.path("prompt").asText(),
                "--negative", c.path("negative_prompt").asText(),
                "--width", c.path("width").asText(), "--height", c.path("height").asText(),
                "--steps", c.path("num_inference_steps").asText(), "--guidance", c.path("guidance_scale").asText(),
                "--init-image", CASE.resolve("init_image.png").toString(), "--strength", c.path("strength").asText(),
                "--mask", mask.toString(), "--seed", c.path("seed").asText()));
    }

    @Test
    void reproducesTheGoldenAndRecordsTheMask(@TempDir Path tmp) throws Exception {
        List<String> args = caseArgs(CASE.resolve("mask_image.png"));
        Path png = tmp.resolve("out.png");
        args.addAll(List.of("--out", png.toString(), "--out-npy", tmp.resolve("out.npy").toString()));
        Run r = run(args);
        assertEquals(0, r.exit(), r.err());
        FloatTensor got = Npy.readFloat(tmp.resolve("out.npy"));
        float err = got.maxAbsDifference(Npy.readFloat(CASE.resolve("image_decoded_with_shift.npy")));
        assertTrue(err < 1e-4f, "image differs by " + err);

        Map<String, String> text = PngFiles.readText(png);
        Map<String, String> ours = PngMetadata.decode(text.get(PngMetadata.OURS));
        RgbImage stored = MaskCodec.decode(ours.get("mask"));
        FloatTensor want = Npy.readFloat(CASE.resolve("mask_preprocessed.npy"));
        assertEquals(96, stored.width());
        assertEquals(64, stored.height());
        for (int p = 0; p < want.data().length; p++) {
            assertEquals(want.data()[p], stored.rgb()[3 * p], 0f, "mask pixel " + p);
        }
        assertEquals("0.8", ours.get("strength"));
        assertTrue(text.get(PngMetadata.PARAMETERS).contains("Inpainting: masked area"), text.get(PngMetadata.PARAMETERS));
    }

    /** A mask at twice the size (same proportions, grey and RGB) is resized to the picture as the reference does. */
    @Test
    void aLargerRgbMaskOfTheSameShapeGivesTheSamePicture(@TempDir Path tmp) throws Exception {
        RgbImage small = Sd3Engine.loadImage(CASE.resolve("mask_image.png"));
        BufferedImage big = new BufferedImage(192, 128, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 128; y++) {
            for (int x = 0; x < 192; x++) {
                big.setRGB(x, y, small.argb(x / 2, y / 2) == 0xffffffff ? 0xffffffff : 0xff202020);
            }
        }
        Path mask = tmp.resolve("big.jpg");
        ImageIO.write(big, "jpg", mask.toFile());
        List<String> args = caseArgs(mask);
        args.addAll(List.of("--out", tmp.resolve("o.png").toString(), "--out-npy", tmp.resolve("o.npy").toString()));
        Run r = run(args);
        assertEquals(0, r.exit(), r.err());
        float err = Npy.readFloat(tmp.resolve("o.npy"))
                .maxAbsDifference(Npy.readFloat(CASE.resolve("image_decoded_with_shift.npy")));
        assertTrue(err < 1e-3f, "image differs by " + err);
    }

    @Test
    void badMasksGetOneNamedLineAndNoOutput(@TempDir Path tmp) throws Exception {
        Path text = tmp.resolve("notes.png");
        Files.writeString(text, "these are my notes, not a picture\n");
        Path black = tmp.resolve("black.png");
        ImageIO.write(new BufferedImage(96, 64, BufferedImage.TYPE_BYTE_GRAY), "png", black.toFile());
        Path square = tmp.resolve("square.png");
        BufferedImage sq = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sq.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(10, 10, 30, 30);
        g.dispose();
        ImageIO.write(sq, "png", square.toFile());
        Object[][] cases = {
                {text, "mask image " + text, "not a picture"},
                {tmp.resolve("missing.png"), "mask image", "does not exist"},
                {black, "all black", "paint white"},
                {square, "the mask is 64x64 but the start image is 96x64", "proportions"},
        };
        Path out = tmp.resolve("o.png");
        for (Object[] c : cases) {
            List<String> args = caseArgs((Path) c[0]);
            args.addAll(List.of("--out", out.toString()));
            Run r = run(args);
            assertFalse(r.exit() == 0, c[1] + ": exit 0");
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertTrue(r.err().startsWith("error: ") && r.err().contains((String) c[1]) && r.err().contains((String) c[2]),
                    r.err());
            assertFalse(r.err().contains("Exception"), r.err());
            assertFalse(Files.exists(out), "no output for " + c[1]);
        }
    }

    @Test
    void aMaskWithoutAStartImageIsAUsageError(@TempDir Path tmp) {
        Run r = run(List.of("generate", "--model", MODEL.toString(), "--prompt", "a cat", "--mask",
                CASE.resolve("mask_image.png").toString(), "--out", tmp.resolve("o.png").toString()));
        assertEquals(Cli.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("--init-image"), r.err());
    }
}
