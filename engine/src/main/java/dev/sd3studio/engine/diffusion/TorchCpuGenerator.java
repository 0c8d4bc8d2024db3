package dev.sd3studio.engine.diffusion;

import dev.sd3studio.engine.api.FloatTensor;

/**
 * PyTorch's CPU random generator and its float32 {@code torch.randn}, in plain Java, so that a seed
 * picked here gives the same initial latents (and img2img noise) as diffusers does with
 * {@code torch.Generator("cpu").manual_seed(seed)}.
 *
 * <p>It matches, bit for bit, the official x86-64 PyTorch builds on CPUs with AVX2 or AVX-512
 * (both run the same kernel):
 * <ul>
 *   <li>the generator is MT19937 seeded with the low 32 bits of the seed;</li>
 *   <li>a draw of 16 or more values first fills every value with a uniform float
 *       {@code (next32 & 0xFFFFFF) / 2^24}, then turns each whole block of 16 into normals by
 *       Box–Muller (value {@code j} paired with {@code j + 8}) using the single-precision Cephes log
 *       and sincos of ATen's {@code avx_mathfun.h}, with the fused multiply-adds the compiler put
 *       in; if the count is not a multiple of 16, the last 16 values are drawn again and
 *       transformed the same way;</li>
 *   <li>a draw of fewer than 16 values uses ATen's scalar {@code normal_distribution<double>}:
 *       Box–Muller on 53-bit uniform doubles, whose second (sine) value is kept on the generator for
 *       its next such draw.</li>
 * </ul>
 * Builds without AVX2 (ARM, or {@code ATEN_CPU_CAPABILITY=default}) use libm's float functions
 * for 16 or more values and differ from this in the last bits (under 2e-6).
 *
 * <p>Like a {@code torch.Generator}, an instance keeps its state across draws; it is not
 * thread-safe.
 */
public final class TorchCpuGenerator {
    private static final int N = 624;
    private static final int M = 397;

    private final int[] mt = new int[N];
    private int next = N;
    private double cachedNormal;
    private boolean hasCachedNormal;

    /** Like {@code torch.Generator("cpu").manual_seed(seed)}: only the low 32 bits of the seed matter. */
    public TorchCpuGenerator(long seed) {
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
    }

    /** Like {@code torch.randn(shape, generator=g)} with dtype float32. */
    public FloatTensor randn(long... shape) {
        return new FloatTensor(shape, randn(Math.toIntExact(FloatTensor.elementCount(shape))));
    }

    /** One {@code torch.randn(count, generator=g)}: {@code count} standard normals, advancing the state. */
    public float[] randn(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("negative count " + count);
        }
        float[] out = new float[count];
        if (count < 16) {
            for (int i = 0; i < count; i++) {
                out[i] = (float) nextNormalDouble();
            }
            return out;
        }
        for (int i = 0; i < count; i++) {
            out[i] = nextUniformFloat();
        }
        for (int i = 0; i + 16 <= count; i += 16) {
            boxMuller16(out, i);
        }
        if (count % 16 != 0) {
            for (int i = count - 16; i < count; i++) {
                out[i] = nextUniformFloat();
            }
            boxMuller16(out, count - 16);
        }
        return out;
    }

    // ---- MT19937 ----

    private int next32() {
        if (next == N) {
            regenerate();
        }
        int y = mt[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        return y ^ (y >>> 18);
    }

    private void regenerate() {
        for (int i = 0; i < N; i++) {
            int y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
            mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ ((y & 1) == 0 ? 0 : 0x9908b0df);
        }
        next = 0;
    }

    private float nextUniformFloat() {
        return (next32() & 0xFFFFFF) * 0x1p-24f;
    }

    private double nextUniformDouble() {
        long hi = next32() & 0xFFFFFFFFL;
        long lo = next32() & 0xFFFFFFFFL;
        return (((hi << 32) | lo) & ((1L << 53) - 1)) * 0x1p-53;
    }

    // ---- fewer than 16 values: at::normal_distribution<double> ----

    private double nextNormalDouble() {
        if (hasCachedNormal) {
            hasCachedNormal = false;
            return cachedNormal;
        }
        double u1 = nextUniformDouble();
        double u2 = nextUniformDouble();
        double r = StrictMath.sqrt(-2.0 * StrictMath.log(1.0 - u2));
        double theta = 2.0 * Math.PI * u1;
        cachedNormal = r * StrictMath.sin(theta);
        hasCachedNormal = true;
        return r * StrictMath.cos(theta);
    }

    // ---- 16 or more values: normal_fill_16_AVX2, one lane at a time ----

    private static final float TWO_PI = (float) (2.0 * Math.PI);

    private static void boxMuller16(float[] d, int at) {
        for (int j = at; j < at + 8; j++) {
            float radius = (float) Math.sqrt(-2.0f * log(1.0f - d[j]));
            float theta = TWO_PI * d[j + 8];
            // "+ 0" is torch's fmadd(n, std = 1, mean = 0): it only turns -0 into +0.
            d[j] = radius * cos(theta) + 0.0f;
            d[j + 8] = radius * sin(theta) + 0.0f;
        }
    }

    // Constants are written as in avx_mathfun.h (double literals rounded to float).
    private static final float SQRTHF = (float) 0.707106781186547524;
    private static final float[] LOG_P = {
        (float) 7.0376836292E-2, (float) -1.1514610310E-1, (float) 1.1676998740E-1,
        (float) -1.2420140846E-1, (float) 1.4249322787E-1, (float) -1.6668057665E-1,
        (float) 2.0000714765E-1, (float) -2.4999993993E-1, (float) 3.3333331174E-1};
    private static final float LOG_Q1 = (float) -2.12194440e-4;
    private static final float LOG_Q2 = (float) 0.693359375;

    /** log256_ps for one lane; x is in (0, 1] here. */
    private static float log(float x) {
        x = Math.max(x, Float.MIN_NORMAL);
        int bits = Float.floatToRawIntBits(x);
        float e = (float) ((bits >>> 23) - 0x7f) + 1.0f;
        x = Float.intBitsToFloat((bits & ~0x7f800000) | Float.floatToRawIntBits(0.5f));
        if (x < SQRTHF) {
            e -= 1.0f;
            x = (x - 1.0f) + x;
        } else {
            x = x - 1.0f;
        }
        float z = x * x;
        float y = LOG_P[0];
        for (int k = 1; k < LOG_P.length; k++) {
            y = Math.fma(y, x, LOG_P[k]);
        }
        y = Math.fma(y * x, z, e * LOG_Q1);
        y = Math.fma(-z, 0.5f, y);
        x = x + y;
        return Math.fma(e, LOG_Q2, x);
    }

    private static final float FOPI = (float) 1.27323954473516;
    private static final float DP1 = (float) -0.78515625;
    private static final float DP2 = (float) -2.4187564849853515625e-4;
    private static final float DP3 = (float) -3.77489497744594108e-8;
    private static final float SIN_P0 = (float) -1.9515295891E-4;
    private static final float SIN_P1 = (float) 8.3321608736E-3;
    private static final float SIN_P2 = (float) -1.6666654611E-1;
    private static final float COS_P0 = (float) 2.443315711809948E-005;
    private static final float COS_P1 = (float) -1.388731625493765E-003;
    private static final float COS_P2 = (float) 4.166664568298827E-002;

    // sincos256_ps for one lane, split in two; x = theta is in [0, 2π) here.

    private static float sin(float x) {
        int j = octant(x);
        float r = reduce(x, j);
        float v = (j & 2) == 0 ? sinPoly(r) : cosPoly(r);
        return (j & 4) == 0 ? v : -v;
    }

    private static float cos(float x) {
        int j = octant(x);
        float r = reduce(x, j);
        float v = (j & 2) == 0 ? cosPoly(r) : sinPoly(r);
        return ((j - 2) & 4) == 0 ? -v : v;
    }

    /** Even octant index: (int) (x * 4/π) rounded up to even. */
    private static int octant(float x) {
        return ((int) (x * FOPI) + 1) & ~1;
    }

    /** x - j·π/4 in three steps ("extended precision modular arithmetic"). */
    private static float reduce(float x, int j) {
        float y = j;
        x = Math.fma(y, DP1, x);
        x = Math.fma(y, DP2, x);
        return Math.fma(y, DP3, x);
    }

    private static float cosPoly(float x) {
        float z = x * x;
        float y = Math.fma(COS_P0, z, COS_P1);
        y = Math.fma(y, z, COS_P2);
        y = Math.fma(y * z, z, -(z * 0.5f));
        return y + 1.0f;
    }

    private static float sinPoly(float x) {
        float z = x * x;
        float y = Math.fma(SIN_P0, z, SIN_P1);
        y = Math.fma(y, z, SIN_P2);
        return Math.fma(y * z, x, x);
    }
}
