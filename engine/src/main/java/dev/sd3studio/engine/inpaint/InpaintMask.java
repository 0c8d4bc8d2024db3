package dev.sd3studio.engine.inpaint;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.image.LanczosResize;

/**
 * An inpainting mask as the reference's mask processor makes it (fixtures README §6): the picture
 * converted to grey as PIL's {@code convert("L")}, resized to the output size, then binarized at
 * 0.5 (grey ≥ 128 repaints); and its latent-size version, the top-left pixel of each block.
 *
 * @param pixels  [1, 1, H, W], each value 0 (keep) or 1 (repaint)
 * @param latents [1, 1, H/f, W/f] with f the VAE's scale factor: {@code pixels[f·i, f·j]}
 */
public record InpaintMask(FloatTensor pixels, FloatTensor latents) {
    /** Relative difference of width/height proportions that resizing is still allowed to fix. */
    static final double ASPECT_TOLERANCE = 0.02;

    /** The mask for a width × height output; {@code scaleFactor} is the VAE's (8). */
    public static InpaintMask prepare(RgbImage mask, int width, int height, int scaleFactor) {
        FloatTensor pixels = binarize(resizeGrey(grey(mask), mask.width(), mask.height(), width, height),
                width, height);
        return new InpaintMask(pixels, toLatentSize(pixels, scaleFactor));
    }

    /**
     * PIL's {@code convert("L")}: (R·19595 + G·38470 + B·7471 + 0x8000) >> 16 on 8-bit values
     * (ITU-R 601 luma in fixed point), so a pure red mask (76) keeps and pure green (150) repaints.
     */
    static int[] grey(RgbImage image) {
        float[] rgb = image.rgb();
        int[] out = new int[image.width() * image.height()];
        for (int p = 0; p < out.length; p++) {
            int r = RgbImage.to8bit(rgb[3 * p]);
            int g = RgbImage.to8bit(rgb[3 * p + 1]);
            int b = RgbImage.to8bit(rgb[3 * p + 2]);
            out[p] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
        }
        return out;
    }

    /** Lanczos as the image itself is resized (PIL stores the grey result as 8 bits again). */
    private static int[] resizeGrey(int[] grey, int w, int h, int width, int height) {
        if (w == width && h == height) {
            return grey;
        }
        float[] rgb = new float[w * h * 3];
        for (int p = 0; p < grey.length; p++) {
            float v = grey[p] / 255f;
            rgb[3 * p] = v;
            rgb[3 * p + 1] = v;
            rgb[3 * p + 2] = v;
        }
        float[] sized = LanczosResize.resize(new RgbImage(w, h, rgb), width, height).rgb();
        int[] out = new int[width * height];
        for (int p = 0; p < out.length; p++) {
            out[p] = RgbImage.to8bit(sized[3 * p]);
        }
        return out;
    }

    /** grey / 255, then {@code < 0.5 → 0}, {@code ≥ 0.5 → 1}, as the reference's {@code do_binarize}. */
    static FloatTensor binarize(int[] grey, int width, int height) {
        float[] out = new float[grey.length];
        for (int p = 0; p < grey.length; p++) {
            out[p] = grey[p] / 255f >= 0.5f ? 1f : 0f;
        }
        return new FloatTensor(new long[] {1, 1, height, width}, out);
    }

    /**
     * Nearest-neighbour downsampling as {@code torch.nn.functional.interpolate}'s default: source
     * index floor(i·f), i.e. the top-left pixel of each f × f block — not an average.
     */
    public static FloatTensor toLatentSize(FloatTensor pixels, int factor) {
        int h = (int) pixels.dim(2);
        int w = (int) pixels.dim(3);
        int lh = h / factor;
        int lw = w / factor;
        float[] in = pixels.data();
        float[] out = new float[lh * lw];
        for (int i = 0; i < lh; i++) {
            for (int j = 0; j < lw; j++) {
                out[i * lw + j] = in[(i * factor) * w + j * factor];
            }
        }
        return new FloatTensor(new long[] {1, 1, lh, lw}, out);
    }

    /** The binarized mask as a black-and-white picture (what a reproducible record keeps). */
    public RgbImage toImage() {
        int h = (int) pixels.dim(2);
        int w = (int) pixels.dim(3);
        float[] m = pixels.data();
        float[] rgb = new float[w * h * 3];
        for (int p = 0; p < m.length; p++) {
            rgb[3 * p] = m[p];
            rgb[3 * p + 1] = m[p];
            rgb[3 * p + 2] = m[p];
        }
        return new RgbImage(w, h, rgb);
    }

    /** Share of pixels that will be repainted, 0..1. */
    public double repaintFraction() {
        return fraction(pixels);
    }

    /** Share of latent positions the blend lets change, 0..1. */
    public double latentRepaintFraction() {
        return fraction(latents);
    }

    private static double fraction(FloatTensor t) {
        double sum = 0;
        for (float v : t.data()) {
            sum += v;
        }
        return sum / t.data().length;
    }

    /**
     * Refuses a mask that resizing cannot fit to the picture (other proportions: stretching would
     * move what it marks) or that repaints nothing. Messages say what to do.
     */
    public static InpaintMask checked(RgbImage mask, RgbImage image, int width, int height, int scaleFactor)
            throws EngineException {
        double maskAspect = (double) mask.width() / mask.height();
        double imageAspect = (double) image.width() / image.height();
        if (Math.abs(maskAspect / imageAspect - 1) > ASPECT_TOLERANCE) {
            throw EngineException.invalid("the mask is " + mask.width() + "x" + mask.height()
                    + " but the start image is " + image.width() + "x" + image.height()
                    + ": other proportions, so stretching the mask would move what it marks;"
                    + " use a mask drawn for this picture.");
        }
        InpaintMask m = prepare(mask, width, height, scaleFactor);
        if (m.repaintFraction() == 0) {
            throw EngineException.invalid("the mask is all black, so nothing would be repainted;"
                    + " paint white (or light grey, 128 and up) where the picture should change.");
        }
        if (m.latentRepaintFraction() == 0) {
            throw EngineException.invalid("the mask's white areas are too thin to repaint anything (the model"
                    + " samples the mask every " + scaleFactor + " pixels); paint a larger area.");
        }
        return m;
    }

    /**
     * The decoded images with the start picture's pixels put back where the mask keeps them, so
     * untouched areas stay exactly untouched (the reference does not do this; it is opt-in).
     *
     * @param images   NHWC in [0, 1], each W × H
     * @param original the start picture already at W × H
     */
    public FloatTensor keepOriginalOutside(FloatTensor images, RgbImage original) {
        float[] out = images.data().clone();
        float[] m = pixels.data();
        float[] rgb = original.rgb();
        int plane = m.length;
        int batch = (int) images.dim(0);
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < plane; p++) {
                if (m[p] == 0f) {
                    int i = (b * plane + p) * 3;
                    out[i] = rgb[3 * p];
                    out[i + 1] = rgb[3 * p + 1];
                    out[i + 2] = rgb[3 * p + 2];
                }
            }
        }
        return new FloatTensor(images.shape(), out);
    }
}
