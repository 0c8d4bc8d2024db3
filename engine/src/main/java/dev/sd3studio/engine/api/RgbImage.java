package dev.sd3studio.engine.api;

/**
 * An RGB picture as float values in [0, 1], row-major HWC. The engine's image value: decoded
 * files become one, generated images are returned as them.
 */
public record RgbImage(int width, int height, float[] rgb) {
    public RgbImage {
        if (width <= 0 || height <= 0 || rgb.length != width * height * 3) {
            throw new IllegalArgumentException("an RGB image of " + width + "x" + height
                    + " needs " + (long) width * height * 3 + " values, got " + rgb.length);
        }
    }

    /** The packed 0xRRGGBB value of a pixel with each channel rounded as the reference does. */
    public int argb(int x, int y) {
        int i = (y * width + x) * 3;
        return 0xff000000 | (to8bit(rgb[i]) << 16) | (to8bit(rgb[i + 1]) << 8) | to8bit(rgb[i + 2]);
    }

    /** round(v · 255) of a value clamped to [0, 1]; NumPy's round-half-to-even on ties. */
    public static int to8bit(float v) {
        float c = Math.min(1f, Math.max(0f, v));
        return (int) Math.rint(c * 255f);
    }
}
