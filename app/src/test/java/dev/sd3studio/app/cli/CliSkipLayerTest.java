package dev.sd3studio.app.cli;

import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.studio.Fixtures;
import dev.sd3studio.engine.api.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --skip-layers}: the skip-layer guidance golden through the command line from its seed, recorded in
 * the PNG and made again from it, and the refusal of blocks the model does not have.
 */
class CliSkipLayerTest {
    private static final Path MODEL = Fixtures.root().resolve("models/tiny-sd3");
    private static final Path CASE = Fixtures.root().resolve("goldens-slg/sd3_slg_layer1_wide_window");

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static String[] args(Path png, String layers) {
        return new String[] {"generate", "--model", MODEL.toString(), "--prompt", "a red fox in tall grass",
                "--negative", "blurry", "--width", "64", "--height", "64", "--steps", "6", "--guidance", "6",
                "--seed", "42", "--skip-layers", layers, "--skip-layer-scale", "1.5", "--skip-layer-start", "0.0",
                "--skip-layer-stop", "0.7", "--out", png.toString(), "--out-npy", png.resolveSibling(png.getFileName() + ".npy").toString()};
    }

    @Test
    void theGoldenFromItsSeedIsRecordedInThePngAndMadeAgainFromIt(@TempDir Path tmp) throws Exception {
        Path png = tmp.resolve("slg.png");
        CliRun r = run(args(png, "1"));
        assertEquals(0, r.exit(), r.err());
        float[] image = Npy.readFloat(tmp.resolve("slg.png.npy")).data();
        assertTrue(Npy.readFloat(tmp.resolve("slg.png.npy")).maxAbsDifference(Npy.readFloat(CASE.resolve("image.npy"))) < 1e-3f);

        Map<String, String> text = PngFiles.readText(png);
        Map<String, String> ours = PngMetadata.decode(text.get(PngMetadata.OURS));
        assertEquals("1", ours.get("skip_layers"));
        assertEquals("1.5", ours.get("skip_layer_scale"));
        assertEquals("0.0", ours.get("skip_layer_start"));
        assertEquals("0.7", ours.get("skip_layer_stop"));
        assertTrue(text.get(PngMetadata.PARAMETERS).contains(", Skip layers: \"1\", SLG scale: 1.5, SLG start: 0.0,"
                + " SLG stop: 0.7"), text.get(PngMetadata.PARAMETERS));

        Path again = tmp.resolve("again.png");
        CliRun from = run("generate", "--model", MODEL.toString(), "--from-png", png.toString(), "--out", again.toString(),
                "--out-npy", tmp.resolve("again.npy").toString());
        assertEquals(0, from.exit(), from.err());
        assertArrayEquals(image, Npy.readFloat(tmp.resolve("again.npy")).data(), "the PNG's SLG settings make it again");
    }

    @Test
    void aBlockTheModelDoesNotHaveIsOneLineNamingTheRangeAndWritesNothing(@TempDir Path tmp) {
        Path png = tmp.resolve("x.png");
        for (String layers : new String[] {"0,2", "7,eight"}) {
            CliRun r = run(args(png, layers));
            assertTrue(r.exit() != 0, layers);
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
            assertFalse(Files.exists(png));
        }
        assertTrue(run(args(png, "0,2")).err().contains("skip layer 2 does not exist: this model's transformer has 2 blocks,"
                + " numbered 0 to 1"), run(args(png, "0,2")).err());
    }
}
