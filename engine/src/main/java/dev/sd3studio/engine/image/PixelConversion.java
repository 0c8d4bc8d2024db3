package dev.sd3studio.engine.image;

import dev.sd3studio.engine.api.RgbImage;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.Raster;

/**
 * Any decoded BufferedImage to RGB floats in [0, 1], transparent pixels composited over white.
 * (The reference's {@code convert("RGB")} just drops alpha and shows whatever colour hides under
 * transparent pixels, often black; white is what a person expects behind a transparent logo.)
 */
final class PixelConversion {
    private PixelConversion() {
    }

    static RgbImage toRgb(BufferedImage image) {
        if (image.getColorModel() instanceof ComponentColorModel
                && image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            return grey(image);
        }
        int w = image.getWidth();
        int h = image.getHeight();
        float[] rgb = new float[w * h * 3];
        int[] row = new int[w];
        boolean alpha = image.getColorModel().hasAlpha();
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                float a = alpha ? ((p >>> 24) & 0xff) / 255f : 1f;
                int i = (y * w + x) * 3;
                rgb[i] = over(((p >> 16) & 0xff) / 255f, a);
                rgb[i + 1] = over(((p >> 8) & 0xff) / 255f, a);
                rgb[i + 2] = over((p & 0xff) / 255f, a);
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /**
     * Grey pictures (PNG grey/grey+alpha at 8 or 16 bits, greyscale JPEG) from their samples:
     * Java's grey colour space is linear, so getRGB would brighten them (128 becomes 188), while
     * the files mean the stored value as it is, as PIL and every viewer read it.
     */
    private static RgbImage grey(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        Raster raster = image.getRaster();
        var cm = image.getColorModel();
        float greyMax = (1 << cm.getComponentSize(0)) - 1;
        boolean alpha = cm.hasAlpha();
        int alphaBand = cm.getNumComponents() - 1;
        float alphaMax = alpha ? (1 << cm.getComponentSize(alphaBand)) - 1 : 1;
        boolean premultiplied = cm.isAlphaPremultiplied();
        float[] rgb = new float[w * h * 3];
        int[] greyRow = new int[w];
        int[] alphaRow = new int[w];
        for (int y = 0; y < h; y++) {
            raster.getSamples(0, y, w, 1, 0, greyRow);
            if (alpha) {
                raster.getSamples(0, y, w, 1, alphaBand, alphaRow);
            }
            for (int x = 0; x < w; x++) {
                float a = alpha ? alphaRow[x] / alphaMax : 1f;
                float g = greyRow[x] / greyMax;
                if (premultiplied && a > 0) {
                    g = Math.min(1f, g / a);
                }
                float v = over(g, a);
                int i = (y * w + x) * 3;
                rgb[i] = v;
                rgb[i + 1] = v;
                rgb[i + 2] = v;
            }
        }
        return new RgbImage(w, h, rgb);
    }

    private static float over(float c, float a) {
        return a >= 1f ? c : c * a + (1f - a);
    }
}
