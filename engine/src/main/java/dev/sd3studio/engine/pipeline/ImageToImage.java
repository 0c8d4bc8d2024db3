package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.model.VaeConfig;

/** The latent arithmetic of image-to-image and decoding (sd3-pipeline.md §5, §6). */
final class ImageToImage {
    private static final float LOGVAR_MIN = -30f;
    private static final float LOGVAR_MAX = 20f;

    private ImageToImage() {
    }

    /**
     * Transformer-space latents of the encoded image: a posterior sample z = mean + exp(logvar/2)·ε
     * (or the encoder's own sample), then (z − shift)·scaling.
     */
    public static FloatTensor imageLatents(FloatTensor encoded, boolean parameters, FloatTensor epsilon,
                                           VaeConfig vae) {
        float scale = (float) vae.scalingFactor();
        float shift = (float) vae.shiftFactor();
        if (!parameters) {
            float[] z = encoded.data();
            float[] out = new float[z.length];
            for (int i = 0; i < z.length; i++) {
                out[i] = (z[i] - shift) * scale;
            }
            return new FloatTensor(encoded.shape(), out);
        }
        long[] shape = encoded.shape();
        int channels = (int) shape[1] / 2;
        shape[1] = channels;
        int plane = (int) (shape[2] * shape[3]);
        float[] p = encoded.data();
        float[] eps = epsilon.data();
        float[] out = new float[(int) shape[0] * channels * plane];
        for (int b = 0; b < shape[0]; b++) {
            for (int c = 0; c < channels; c++) {
                int mean = (b * 2 * channels + c) * plane;
                int logvar = (b * 2 * channels + channels + c) * plane;
                int dst = (b * channels + c) * plane;
                for (int k = 0; k < plane; k++) {
                    float lv = Math.min(LOGVAR_MAX, Math.max(LOGVAR_MIN, p[logvar + k]));
                    float std = (float) Math.exp(0.5f * lv);
                    float z = p[mean + k] + std * eps[dst + k];
                    out[dst + k] = (z - shift) * scale;
                }
            }
        }
        return new FloatTensor(shape, out);
    }

    /** x = σ·noise + (1 − σ)·z0, the image latents repeated over the batch. */
    public static FloatTensor startLatents(FloatTensor imageLatents, FloatTensor noise, float sigma) {
        float[] z = imageLatents.data();
        float[] n = noise.data();
        float[] out = new float[n.length];
        for (int i = 0; i < n.length; i++) {
            out[i] = sigma * n[i] + (1f - sigma) * z[i % z.length];
        }
        return new FloatTensor(noise.shape(), out);
    }

    /** Transformer-space latents to the VAE decoder's input: x / scaling + shift. */
    public static FloatTensor toVaeSpace(FloatTensor latents, VaeConfig vae) {
        float scale = (float) vae.scalingFactor();
        float shift = (float) vae.shiftFactor();
        float[] x = latents.data();
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] / scale + shift;
        }
        return new FloatTensor(latents.shape(), out);
    }
}
