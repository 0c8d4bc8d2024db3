package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.FloatTensor;

/**
 * The pure tensor arithmetic of sd3-pipeline.md §2: CLIP hidden states side by side, zero-padded
 * to the T5 width, then the T5 tokens after them; pooled embeddings side by side.
 */
final class EmbeddingAssembly {
    private EmbeddingAssembly() {
    }

    /** concat(L [B,77,DL], G [B,77,DG]) on the last axis, zero-padded to J, then concat with T5 [B,S,J] on axis 1. */
    public static FloatTensor promptEmbeds(FloatTensor clipL, FloatTensor clipG, FloatTensor t5) {
        int batch = (int) clipL.dim(0);
        int clipTokens = (int) clipL.dim(1);
        int dl = (int) clipL.dim(2);
        int dg = (int) clipG.dim(2);
        int tokens = (int) t5.dim(1);
        int j = (int) t5.dim(2);
        if (dl + dg > j) {
            throw new IllegalArgumentException("CLIP widths " + dl + "+" + dg + " exceed the T5 width " + j);
        }
        float[] out = new float[batch * (clipTokens + tokens) * j];
        float[] l = clipL.data();
        float[] g = clipG.data();
        float[] t = t5.data();
        for (int b = 0; b < batch; b++) {
            int base = b * (clipTokens + tokens) * j;
            for (int s = 0; s < clipTokens; s++) {
                System.arraycopy(l, (b * clipTokens + s) * dl, out, base + s * j, dl);
                System.arraycopy(g, (b * clipTokens + s) * dg, out, base + s * j + dl, dg);
            }
            System.arraycopy(t, b * tokens * j, out, base + clipTokens * j, tokens * j);
        }
        return new FloatTensor(new long[] {batch, clipTokens + tokens, j}, out);
    }

    /** concat(L [B,PL], G [B,PG]) on the last axis. */
    public static FloatTensor pooled(FloatTensor pooledL, FloatTensor pooledG) {
        int batch = (int) pooledL.dim(0);
        int pl = (int) pooledL.dim(1);
        int pg = (int) pooledG.dim(1);
        float[] out = new float[batch * (pl + pg)];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(pooledL.data(), b * pl, out, b * (pl + pg), pl);
            System.arraycopy(pooledG.data(), b * pg, out, b * (pl + pg) + pl, pg);
        }
        return new FloatTensor(new long[] {batch, pl + pg}, out);
    }
}
