package dev.sd3studio.engine.image;

import dev.sd3studio.engine.api.RgbImage;

/**
 * Separable Lanczos-3 resampling with the filter widened when shrinking (antialiasing), the
 * method the reference's image processor uses (PIL's LANCZOS), so image-to-image starts from
 * nearly the same pixels.
 */
public final class LanczosResize {
    private static final double SUPPORT = 3.0;

    private LanczosResize() {
    }

    public static RgbImage resize(RgbImage src, int width, int height) {
        if (src.width() == width && src.height() == height) {
            return src;
        }
        float[] horizontal = resizeAxis(src.rgb(), src.width(), src.height(), width, true);
        float[] both = resizeAxis(horizontal, width, src.height(), height, false);
        return new RgbImage(width, height, both);
    }

    /** Resamples along x (horizontal) or y; the other dimension is kept. */
    private static float[] resizeAxis(float[] in, int w, int h, int target, boolean horizontal) {
        int srcLen = horizontal ? w : h;
        if (srcLen == target) {
            return in;
        }
        double scale = (double) srcLen / target;
        double filterScale = Math.max(scale, 1.0);
        double support = SUPPORT * filterScale;
        int outW = horizontal ? target : w;
        int outH = horizontal ? h : target;
        float[] out = new float[outW * outH * 3];
        for (int o = 0; o < target; o++) {
            double center = (o + 0.5) * scale;
            int lo = Math.max(0, (int) Math.floor(center - support));
            int hi = Math.min(srcLen, (int) Math.ceil(center + support));
            double[] weights = new double[hi - lo];
            double total = 0;
            for (int i = lo; i < hi; i++) {
                double wgt = lanczos((i + 0.5 - center) / filterScale);
                weights[i - lo] = wgt;
                total += wgt;
            }
            for (int k = 0; k < weights.length; k++) {
                weights[k] = total == 0 ? 0 : weights[k] / total;
            }
            int others = horizontal ? h : w;
            for (int q = 0; q < others; q++) {
                for (int c = 0; c < 3; c++) {
                    double acc = 0;
                    for (int i = lo; i < hi; i++) {
                        int idx = horizontal ? (q * w + i) * 3 + c : (i * w + q) * 3 + c;
                        acc += weights[i - lo] * in[idx];
                    }
                    int outIdx = horizontal ? (q * outW + o) * 3 + c : (o * outW + q) * 3 + c;
                    out[outIdx] = (float) Math.min(1.0, Math.max(0.0, acc));
                }
            }
        }
        return out;
    }

    private static double lanczos(double x) {
        if (x == 0) {
            return 1;
        }
        if (Math.abs(x) >= SUPPORT) {
            return 0;
        }
        double px = Math.PI * x;
        return SUPPORT * Math.sin(px) * Math.sin(px / SUPPORT) / (px * px);
    }
}
