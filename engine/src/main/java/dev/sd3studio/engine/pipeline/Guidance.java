package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.FloatTensor;

/** Classifier-free guidance on a [uncond…, cond…] batch: v = v_u + g·(v_c − v_u) (sd3-pipeline.md §3). */
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
}
