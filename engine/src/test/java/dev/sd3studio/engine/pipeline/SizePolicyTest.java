package dev.sd3studio.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The image-to-image size with no size given: own aspect, about the default pixel count, multiples of 16. */
class SizePolicyTest {
    /** The rule spelled out: sides √(area·aspect) and √(area/aspect), each rounded to the nearest 16. */
    private static int[] rule(int w, int h, int def) {
        double area = (double) def * def;
        double aspect = (double) w / h;
        return new int[] {
            (int) Math.max(16, Math.round(Math.sqrt(area * aspect) / 16) * 16),
            (int) Math.max(16, Math.round(Math.sqrt(area / aspect) / 16) * 16)};
    }

    @Test
    void photoOnA1024Model() {
        // √(1024²·4/3) = 1182.4 → 1184; √(1024²·3/4) = 886.8 → 880
        assertArrayEquals(new int[] {1184, 880}, SizePolicy.forImage(4000, 3000, 1024, 1024, 16));
    }

    @Test
    void followsTheRuleForManyShapes() {
        int[][] shapes = {{4000, 3000}, {3000, 4000}, {1920, 1080}, {1080, 1920}, {512, 512}, {640, 480},
            {6000, 4000}, {2048, 1024}, {333, 777}, {1, 1}, {1, 2}};
        for (int[] s : shapes) {
            int[] got = SizePolicy.forImage(s[0], s[1], 1024, 1024, 16);
            assertArrayEquals(rule(s[0], s[1], 1024), got, s[0] + "x" + s[1]);
            assertEquals(0, got[0] % 16);
            assertEquals(0, got[1] % 16);
            double pixels = (double) got[0] * got[1];
            assertTrue(Math.abs(pixels / (1024.0 * 1024) - 1) < 0.05, s[0] + "x" + s[1] + " -> " + pixels);
            double aspect = (double) got[0] / got[1];
            double want = (double) s[0] / s[1];
            assertTrue(Math.abs(Math.log(aspect / want)) < 0.03, s[0] + "x" + s[1] + " aspect " + aspect);
        }
    }

    @Test
    void squareGivesTheDefault() {
        assertArrayEquals(new int[] {1024, 1024}, SizePolicy.forImage(300, 300, 1024, 1024, 16));
        assertArrayEquals(new int[] {64, 64}, SizePolicy.forImage(5000, 5000, 64, 64, 16));
    }

    @Test
    void portraitIsTheTransposeOfLandscape() {
        int[] land = SizePolicy.forImage(1920, 1080, 1024, 1024, 16);
        int[] port = SizePolicy.forImage(1080, 1920, 1024, 1024, 16);
        assertArrayEquals(new int[] {land[1], land[0]}, port);
    }

    @Test
    void extremeAspectsNeverGoBelowOneMultiple() {
        int[] wide = SizePolicy.forImage(100000, 1, 1024, 1024, 16);
        assertEquals(16, wide[1]);
        int[] tall = SizePolicy.forImage(1, 100000, 1024, 1024, 16);
        assertEquals(16, tall[0]);
        int[] tiny = SizePolicy.forImage(3000, 100, 64, 64, 16);
        assertTrue(tiny[0] >= 16 && tiny[1] == 16);
    }

    /** A side past the model's largest is capped there, the other side shrunk with it. */
    @Test
    void capsAtTheModelsLargestSide() {
        // Tiny model: default 64, largest 256 (16 patches × 16). 3000×100: √(4096·30) = 350.5 > 256.
        assertArrayEquals(new int[] {256, 16}, SizePolicy.forImage(3000, 100, 64, 64, 16, 256));
        // SD3 medium: pos_embed_max_size 192 → 3072. A 21:9 panorama at 1 MP stays well inside.
        assertArrayEquals(SizePolicy.forImage(2560, 1080, 1024, 1024, 16),
                SizePolicy.forImage(2560, 1080, 1024, 1024, 16, 3072));
        int[] pano = SizePolicy.forImage(20000, 1000, 1024, 1024, 16, 3072);
        assertEquals(3072, pano[0]);
        assertEquals(160, pano[1]); // 3072 / 20 = 153.6 → 160
        int[] tower = SizePolicy.forImage(1000, 20000, 1024, 1024, 16, 3072);
        assertArrayEquals(new int[] {160, 3072}, tower);
    }
}
