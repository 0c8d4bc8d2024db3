package dev.sd3studio.engine.vae;

import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.image.LanczosResize;

/** Conversions between pictures and the decoder/encoder tensors (sd3-pipeline.md §5, §6). */
public final class ImageTensors {
    private ImageTensors() {
    }

    /** Decoder output NCHW in about [−1, 1] to NHWC in [0, 1]: clamp(x/2 + 0.5, 0, 1). */
    public static FloatTensor toImages(FloatTensor decoded) {
        int b = (int) decoded.dim(0);
        int c = (int) decoded.dim(1);
        int h = (int) decoded.dim(2);
        int w = (int) decoded.dim(3);
        float[] in = decoded.data();
        float[] out = new float[b * h * w * c];
        for (int n = 0; n < b; n++) {
            for (int ch = 0; ch < c; ch++) {
                int src = (n * c + ch) * h * w;
                for (int p = 0; p < h * w; p++) {
                    float v = in[src + p] / 2f + 0.5f;
                    out[(n * h * w + p) * c + ch] = Math.min(1f, Math.max(0f, v));
                }
            }
        }
        return new FloatTensor(new long[] {b, h, w, c}, out);
    }

    /** A picture resized to width × height and mapped to the encoder's NCHW [−1, 1] input. */
    public static FloatTensor toEncoderInput(RgbImage image, int width, int height) {
        RgbImage sized = LanczosResize.resize(image, width, height);
        float[] rgb = sized.rgb();
        float[] out = new float[3 * width * height];
        int plane = width * height;
        for (int p = 0; p < plane; p++) {
            for (int c = 0; c < 3; c++) {
                out[c * plane + p] = 2f * rgb[p * 3 + c] - 1f;
            }
        }
        return new FloatTensor(new long[] {1, 3, height, width}, out);
    }
}
