package dev.sd3studio.engine.inpaint;

import dev.sd3studio.engine.api.FloatTensor;

/**
 * The per-step blend of inpainting with the base model (fixtures README §6.4): after Euler step i
 * the latents keep the model's values inside the mask and take the start picture outside it,
 * re-noised with the <b>same</b> noise tensor as the start to the σ the latents have just reached
 * ({@code σ_{i+1}}), and clean at the last step.
 */
public final class MaskBlend {
    private final FloatTensor imageLatents;
    private final FloatTensor noise;
    private final float[] mask;
    private final float[] sigmas;

    /**
     * @param imageLatents transformer-space latents of the start picture, [1, C, h, w]
     * @param noise        the noise the start latents were made from, [B, C, h, w]
     * @param maskLatents  [1, 1, h, w] of 0 (keep) and 1 (repaint)
     * @param sigmas       the σ of the steps that run, with the final 0 (length steps + 1)
     */
    public MaskBlend(FloatTensor imageLatents, FloatTensor noise, FloatTensor maskLatents, float[] sigmas) {
        long plane = maskLatents.dim(2) * maskLatents.dim(3);
        if (plane != imageLatents.dim(2) * imageLatents.dim(3) || sigmas.length < 2) {
            throw new IllegalArgumentException("mask " + java.util.Arrays.toString(maskLatents.shape())
                    + " does not fit latents " + java.util.Arrays.toString(imageLatents.shape()));
        }
        this.imageLatents = imageLatents;
        this.noise = noise;
        this.mask = maskLatents.data();
        this.sigmas = sigmas.clone();
    }

    public int steps() {
        return sigmas.length - 1;
    }

    /** What the blend puts outside the mask after step i: σ_{i+1}·noise + (1 − σ_{i+1})·z0, or z0 at the last step. */
    public FloatTensor properAt(int i) {
        float[] z = imageLatents.data();
        float[] n = noise.data();
        float[] out = new float[n.length];
        if (i == steps() - 1) {
            for (int k = 0; k < out.length; k++) {
                out[k] = z[k % z.length];
            }
        } else {
            float sigma = sigmas[i + 1];
            for (int k = 0; k < out.length; k++) {
                out[k] = sigma * n[k] + (1f - sigma) * z[k % z.length];
            }
        }
        return new FloatTensor(noise.shape(), out);
    }

    /** After Euler step i, in place: {@code latents = (1 − m)·proper + m·latents}; returns the proper it used. */
    public FloatTensor apply(FloatTensor latents, int i) {
        FloatTensor proper = properAt(i);
        mix(proper.data(), latents.data());
        return proper;
    }

    /**
     * The model's current estimate with the clean start picture outside the mask: what the result
     * will look like, for step previews (without it a preview shows the whole picture repainted).
     */
    public FloatTensor previewOf(FloatTensor denoised) {
        FloatTensor out = denoised.copy();
        float[] z = imageLatents.data();
        float[] clean = new float[out.data().length];
        for (int k = 0; k < clean.length; k++) {
            clean[k] = z[k % z.length];
        }
        mix(clean, out.data());
        return out;
    }

    /** x = (1 − m)·outside + m·x, the mask broadcast over batch and channels. */
    private void mix(float[] outside, float[] x) {
        int plane = mask.length;
        for (int k = 0; k < x.length; k++) {
            float m = mask[k % plane];
            x[k] = (1f - m) * outside[k] + m * x[k];
        }
    }
}
