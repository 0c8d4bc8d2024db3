package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.FloatTensor;

/**
 * Classifier-free guidance on a [uncond…, cond…] batch: v = v_u + g·(v_c − v_u) (sd3-pipeline.md §3),
 * and skip-layer guidance on top of it (fixtures README §9).
 */
final class Guidance {
    private Guidance() {
    }

    static FloatTensor combine(FloatTensor both, float scale) {
        int half = (int) both.dim(0) / 2;
        FloatTensor uncond = both.slice(0, half);
        float[] u = uncond.data();
        float[] c = both.data();
        int offset = u.length;
        float[] out = new float[u.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = u[i] + scale * (c[offset + i] - u[i]);
        }
        return new FloatTensor(uncond.shape(), out);
    }

    /**
     * Skip-layer guidance: {@code guided + (text − skipped)·scale}, with {@code text} the cond half of the
     * CFG batch {@code both} and {@code skipped} the prediction with the chosen blocks bypassed.
     */
    static FloatTensor skipLayers(FloatTensor guided, FloatTensor both, FloatTensor skipped, float scale) {
        float[] v = guided.data();
        float[] c = both.data();
        float[] s = skipped.data();
        int offset = c.length - v.length;
        float[] out = new float[v.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = v[i] + (c[offset + i] - s[i]) * scale;
        }
        return new FloatTensor(guided.shape(), out);
    }
}
