package dev.sd3studio.engine.inpaint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.image.ImageLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The mask as the reference's mask processor makes it (fixtures README §6, "mask_preprocessed", "mask_latents"). */
class InpaintMaskTest {
    static java.util.List<Path> cases() throws java.io.IOException {
        return Fixtures.inpaintCases();
    }

    /** The reference's processed masks, from mask_image.png alone: exactly equal. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheReferenceMasksExactly(Path dir) throws Exception {
        RgbImage png = ImageLoader.load(dir.resolve("mask_image.png"));
        FloatTensor wantPixels = Fixtures.tensor(dir, "mask_preprocessed");
        FloatTensor wantLatents = Fixtures.tensor(dir, "mask_latents");
        InpaintMask mask = InpaintMask.prepare(png, png.width(), png.height(), 8);
        assertArrayEquals(wantPixels.shape(), mask.pixels().shape());
        assertArrayEquals(wantPixels.data(), mask.pixels().data(), 0f);
        assertArrayEquals(wantLatents.shape(), mask.latents().shape());
        assertArrayEquals(wantLatents.data(), mask.latents().data(), 0f);
    }

    /** PIL's convert("L") weights, then binarized at 0.5: grey 128 repaints, 127 keeps. */
    @Test
    void greyIsPilLumaAndBinarizedAtOneHalf() {
        int[][] colours = {
            {127, 127, 127}, {128, 128, 128}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}, {0, 0, 0},
            {200, 100, 40}, {255, 0, 255}};
        // L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16; green repaints and magenta keeps, unlike an average.
        int[] grey = {127, 128, 76, 150, 29, 255, 0, 123, 105};
        float[] repaint = {0, 1, 0, 1, 0, 1, 0, 0, 0};
        RgbImage image = row(colours);
        assertArrayEquals(grey, InpaintMask.grey(image));
        InpaintMask mask = InpaintMask.prepare(image, colours.length, 1, 1);
        assertArrayEquals(repaint, mask.pixels().data(), 0f);
    }

    /** The top-left pixel of each 8×8 block decides; the other 63 do not (not an average, not the centre). */
    @Test
    void latentMaskIsTheTopLeftPixelOfEachBlock() {
        int w = 32;
        int h = 16;
        float[] px = new float[w * h];
        // block (0,0): only its top-left pixel white -> 1
        px[0] = 1;
        // block (0,1): everything white except its top-left pixel -> 0
        for (int y = 0; y < 8; y++) {
            for (int x = 8; x < 16; x++) {
                px[y * w + x] = (x == 8 && y == 0) ? 0 : 1;
            }
        }
        // block (1,3): only its centre white -> 0; block (1,2): only its top-left -> 1
        px[12 * w + 28] = 1;
        px[8 * w + 16] = 1;
        FloatTensor latents = InpaintMask.toLatentSize(new FloatTensor(new long[] {1, 1, h, w}, px), 8);
        assertArrayEquals(new long[] {1, 1, 2, 4}, latents.shape());
        assertArrayEquals(new float[] {1, 0, 0, 0, 0, 0, 1, 0}, latents.data(), 0f);
    }

    @Test
    void aLargerMaskOfTheSameShapeIsResizedToTheOutput() {
        // Left half white at 128×128 -> left half white at 64×64.
        RgbImage big = halves(128, 128);
        InpaintMask mask = InpaintMask.prepare(big, 64, 64, 8);
        assertArrayEquals(new long[] {1, 1, 64, 64}, mask.pixels().shape());
        assertEquals(0.5, mask.repaintFraction(), 1e-9);
        for (int y = 0; y < 64; y++) {
            assertEquals(1f, mask.pixels().data()[y * 64 + 31]);
            assertEquals(0f, mask.pixels().data()[y * 64 + 32]);
        }
        assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0, 0, 0}, java.util.Arrays.copyOf(mask.latents().data(), 8), 0f);
    }

    @Test
    void theBinarizedMaskPreparesToItself() {
        InpaintMask once = InpaintMask.prepare(noisyGrey(48, 32, 5), 48, 32, 8);
        InpaintMask twice = InpaintMask.prepare(once.toImage(), 48, 32, 8);
        assertArrayEquals(once.pixels().data(), twice.pixels().data(), 0f);
        assertArrayEquals(once.latents().data(), twice.latents().data(), 0f);
    }

    @Test
    void allBlackMaskIsRefusedByName() {
        RgbImage black = new RgbImage(64, 64, new float[64 * 64 * 3]);
        EngineException e = assertThrows(EngineException.class,
                () -> InpaintMask.checked(black, black, 64, 64, 8));
        assertEquals(EngineException.Kind.INVALID_REQUEST, e.kind());
        assertTrue(e.getMessage().contains("all black"), e.getMessage());
        // Dark grey (below 128) is black after binarization.
        RgbImage dark = solid(64, 64, 127 / 255f);
        assertThrows(EngineException.class, () -> InpaintMask.checked(dark, dark, 64, 64, 8));
    }

    @Test
    void whiteThatMissesEverySampledPixelIsRefused() {
        float[] rgb = new float[64 * 64 * 3];
        for (int p = 0; p < 64 * 64; p++) {
            if ((p % 64) % 8 == 4) {
                rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = 1f;
            }
        }
        RgbImage stripes = new RgbImage(64, 64, rgb);
        EngineException e = assertThrows(EngineException.class,
                () -> InpaintMask.checked(stripes, stripes, 64, 64, 8));
        assertTrue(e.getMessage().contains("too thin"), e.getMessage());
    }

    @Test
    void otherProportionsAreRefusedButSmallRoundingIsNot() throws EngineException {
        RgbImage image = solid(640, 480, 0.5f);
        EngineException e = assertThrows(EngineException.class,
                () -> InpaintMask.checked(halves(480, 480), image, 64, 48, 8));
        assertTrue(e.getMessage().contains("480x480") && e.getMessage().contains("640x480"), e.getMessage());
        // 641×480 is the same picture to within rounding: resized, as the reference does.
        InpaintMask ok = InpaintMask.checked(halves(641, 480), image, 64, 48, 8);
        assertEquals(0.5, ok.repaintFraction(), 0.02);
    }

    @Test
    void keepOriginalOutsidePastesOnlyWhereTheMaskKeeps() {
        RgbImage mask = halves(4, 2);
        InpaintMask m = InpaintMask.prepare(mask, 4, 2, 1);
        RgbImage original = solid(4, 2, 0.25f);
        float[] generated = new float[2 * 4 * 2 * 3];
        java.util.Arrays.fill(generated, 0.9f);
        FloatTensor out = m.keepOriginalOutside(new FloatTensor(new long[] {2, 2, 4, 3}, generated), original);
        for (int b = 0; b < 2; b++) {
            for (int p = 0; p < 8; p++) {
                float want = p % 4 < 2 ? 0.9f : 0.25f;
                for (int c = 0; c < 3; c++) {
                    assertEquals(want, out.data()[(b * 8 + p) * 3 + c], "b" + b + " p" + p);
                }
            }
        }
        assertEquals(0.9f, generated[20], "input left as it was");
    }

    private static RgbImage row(int[][] colours) {
        float[] rgb = new float[colours.length * 3];
        for (int i = 0; i < colours.length; i++) {
            for (int c = 0; c < 3; c++) {
                rgb[3 * i + c] = colours[i][c] / 255f;
            }
        }
        return new RgbImage(colours.length, 1, rgb);
    }

    /** White on the left half, black on the right. */
    static RgbImage halves(int w, int h) {
        float[] rgb = new float[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w / 2; x++) {
                int i = (y * w + x) * 3;
                rgb[i] = rgb[i + 1] = rgb[i + 2] = 1f;
            }
        }
        return new RgbImage(w, h, rgb);
    }

    private static RgbImage solid(int w, int h, float v) {
        float[] rgb = new float[w * h * 3];
        java.util.Arrays.fill(rgb, v);
        return new RgbImage(w, h, rgb);
    }

    private static RgbImage noisyGrey(int w, int h, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] rgb = new float[w * h * 3];
        for (int p = 0; p < w * h; p++) {
            float v = r.nextInt(256) / 255f;
            rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = v;
        }
        return new RgbImage(w, h, rgb);
    }
}
