package dev.sd3studio.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.sd3studio.engine.api.RgbImage;
import org.junit.jupiter.api.Test;

class LanczosResizeTest {
    private static RgbImage constant(int w, int h, float r, float g, float b) {
        float[] rgb = new float[w * h * 3];
        for (int i = 0; i < w * h; i++) {
            rgb[3 * i] = r;
            rgb[3 * i + 1] = g;
            rgb[3 * i + 2] = b;
        }
        return new RgbImage(w, h, rgb);
    }

    private static RgbImage checkerboard(int w, int h) {
        float[] rgb = new float[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float v = (x + y) % 2 == 0 ? 1f : 0f;
                int i = (y * w + x) * 3;
                rgb[i] = v;
                rgb[i + 1] = v;
                rgb[i + 2] = v;
            }
        }
        return new RgbImage(w, h, rgb);
    }

    @Test
    void sameSizeIsIdentity() {
        RgbImage src = checkerboard(12, 7);
        assertSame(src, LanczosResize.resize(src, 12, 7));
    }

    @Test
    void constantStaysConstant() {
        RgbImage src = constant(37, 23, 0.25f, 0.5f, 0.75f);
        for (int[] size : new int[][] {{16, 16}, {80, 48}, {37, 64}, {5, 3}, {1, 1}}) {
            RgbImage out = LanczosResize.resize(src, size[0], size[1]);
            assertEquals(size[0], out.width());
            assertEquals(size[1], out.height());
            for (int i = 0; i < out.rgb().length; i += 3) {
                assertEquals(0.25f, out.rgb()[i], 1e-5f);
                assertEquals(0.5f, out.rgb()[i + 1], 1e-5f);
                assertEquals(0.75f, out.rgb()[i + 2], 1e-5f);
            }
        }
    }

    /** Shrinking a one-pixel checkerboard 4× widens the filter, so it averages to grey, not aliases. */
    @Test
    void downscaledCheckerboardAveragesToGrey() {
        RgbImage out = LanczosResize.resize(checkerboard(64, 64), 16, 16);
        for (float v : out.rgb()) {
            assertEquals(0.5f, v, 0.02f);
        }
    }

    /** Both axes are resampled: a horizontal ramp stays a ramp, monotonic and within [0, 1]. */
    @Test
    void rampStaysMonotonic() {
        int w = 50;
        float[] rgb = new float[w * 4 * 3];
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    rgb[(y * w + x) * 3 + c] = x / (float) (w - 1);
                }
            }
        }
        RgbImage out = LanczosResize.resize(new RgbImage(w, 4, rgb), 20, 8);
        for (int x = 1; x < 20; x++) {
            float prev = out.rgb()[(3 * 20 + x - 1) * 3];
            float cur = out.rgb()[(3 * 20 + x) * 3];
            assertEquals(true, cur >= prev - 1e-6f, "x=" + x);
        }
        assertEquals(true, out.rgb()[0] >= 0f && out.rgb()[(3 * 20 + 19) * 3] <= 1f);
    }
}
