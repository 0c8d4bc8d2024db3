package dev.sd3studio.engine.preview;

import dev.sd3studio.engine.api.FloatTensor;

/**
 * The cheapest preview: a fixed linear map from SD3's 16 latent channels to RGB, applied per
 * latent cell (so the preview is 1/8 of the image size). The factors are the SD3 ones published
 * with ComfyUI's latent formats; they act on transformer-space latents and give about [−1, 1].
 */
final class LatentToRgb {
    static final float[][] FACTORS = {
            {-0.0922f, -0.0175f, 0.0749f}, {0.0311f, 0.0633f, 0.0954f}, {0.1994f, 0.0927f, 0.0458f},
            {0.0856f, 0.0339f, 0.0902f}, {0.0587f, 0.0272f, -0.0496f}, {-0.0006f, 0.1104f, 0.0309f},
            {0.0978f, 0.0306f, 0.0427f}, {-0.0042f, 0.1038f, 0.1358f}, {-0.0194f, 0.0020f, 0.0669f},
            {-0.0488f, 0.0130f, -0.0268f}, {0.0922f, 0.0988f, 0.0951f}, {-0.0278f, 0.0524f, -0.0542f},
            {0.0332f, 0.0456f, 0.0895f}, {-0.0069f, -0.0030f, -0.0810f}, {-0.0596f, -0.0465f, -0.0293f},
            {-0.1448f, -0.1463f, -0.1189f}};
    static final float[] BIAS = {0.2394f, 0.2135f, 0.1925f};

    private LatentToRgb() {
    }

    /** Latents [B, 16, h, w] to preview images NHWC [B, h, w, 3] in [0, 1]. */
    public static FloatTensor project(FloatTensor latents) {
        int b = (int) latents.dim(0);
        int c = (int) latents.dim(1);
        int h = (int) latents.dim(2);
        int w = (int) latents.dim(3);
        int channels = Math.min(c, FACTORS.length);
        float[] x = latents.data();
        float[] out = new float[b * h * w * 3];
        for (int n = 0; n < b; n++) {
            for (int p = 0; p < h * w; p++) {
                for (int rgb = 0; rgb < 3; rgb++) {
                    float v = BIAS[rgb];
                    for (int k = 0; k < channels; k++) {
                        v += x[(n * c + k) * h * w + p] * FACTORS[k][rgb];
                    }
                    out[(n * h * w + p) * 3 + rgb] = Math.min(1f, Math.max(0f, v / 2f + 0.5f));
                }
            }
        }
        return new FloatTensor(new long[] {b, h, w, 3}, out);
    }
}
