package dev.sd3studio.engine.diffusion;

import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.model.SchedulerConfig;

/**
 * The flow-matching Euler schedule of the reference scheduler (sd3-pipeline.md §4), reproduced
 * in the reference's own precisions: training sigmas in float32, the inference schedule in
 * float64 and then float32, the Euler step in float32.
 */
public final class FlowMatchEulerScheduler {
    private final SchedulerConfig config;
    private final double sigmaMax;
    private final double sigmaMin;

    public FlowMatchEulerScheduler(SchedulerConfig config) {
        this.config = config;
        int n = config.numTrainTimesteps();
        // Training sigmas t/N for t = N..1, shifted once unless shifting is dynamic.
        sigmaMax = trainingSigma(n, n);
        sigmaMin = trainingSigma(1, n);
    }

    private float trainingSigma(int t, int n) {
        float sigma = (float) t / (float) n;
        if (config.useDynamicShifting()) {
            return sigma;
        }
        float s = (float) config.shift();
        return s * sigma / (1f + (s - 1f) * sigma);
    }

    /** The schedule for {@code steps} steps: N sigmas plus the final 0, and N timesteps (σ·1000). */
    public record Schedule(float[] sigmas, float[] timesteps) {
        public int steps() {
            return timesteps.length;
        }

        /** The tail that image-to-image runs, starting at step {@code start}. */
        public Schedule from(int start) {
            return new Schedule(java.util.Arrays.copyOfRange(sigmas, start, sigmas.length),
                    java.util.Arrays.copyOfRange(timesteps, start, timesteps.length));
        }
    }

    /**
     * @param imageSeqLen image tokens ((H/8/patch)·(W/8/patch)), used only with dynamic shifting
     */
    public Schedule schedule(int steps, int imageSeqLen) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1");
        }
        double start = sigmaMax * config.numTrainTimesteps();
        double stop = sigmaMin * config.numTrainTimesteps();
        double[] sigmas = linspace(start, stop, steps);
        for (int i = 0; i < steps; i++) {
            sigmas[i] /= config.numTrainTimesteps();
        }
        if (config.useDynamicShifting()) {
            double mu = mu(imageSeqLen);
            for (int i = 0; i < steps; i++) {
                sigmas[i] = timeShift(mu, sigmas[i]);
            }
        } else {
            double s = config.shift();
            for (int i = 0; i < steps; i++) {
                sigmas[i] = s * sigmas[i] / (1 + (s - 1) * sigmas[i]);
            }
        }
        if (config.shiftTerminal() != null && config.shiftTerminal() != 0) {
            stretchToTerminal(sigmas, config.shiftTerminal());
        }
        float[] sig = new float[steps + 1];
        float[] ts = new float[steps];
        for (int i = 0; i < steps; i++) {
            sig[i] = (float) sigmas[i];
            ts[i] = sig[i] * (float) config.numTrainTimesteps();
        }
        return new Schedule(sig, ts);
    }

    /** μ for dynamic shifting, interpolated linearly in the image token count. */
    double mu(int imageSeqLen) {
        double m = (config.maxShift() - config.baseShift()) / (config.maxImageSeqLen() - config.baseImageSeqLen());
        double b = config.baseShift() - m * config.baseImageSeqLen();
        return imageSeqLen * m + b;
    }

    private double timeShift(double mu, double t) {
        return config.exponentialTimeShift()
                ? Math.exp(mu) / (Math.exp(mu) + (1 / t - 1))
                : mu / (mu + (1 / t - 1));
    }

    private static void stretchToTerminal(double[] t, double terminal) {
        double scale = (1 - t[t.length - 1]) / (1 - terminal);
        for (int i = 0; i < t.length; i++) {
            t[i] = 1 - (1 - t[i]) / scale;
        }
    }

    /** NumPy's linspace: start + i·step, with the last value exactly {@code stop}. */
    static double[] linspace(double start, double stop, int num) {
        double[] y = new double[num];
        if (num == 1) {
            y[0] = start;
            return y;
        }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) {
            y[i] = i * step + start;
        }
        y[num - 1] = stop;
        return y;
    }

    /** The first step image-to-image runs: {@code int(N − min(N·strength, N))}, as the reference. */
    public static int startStep(int steps, double strength) {
        double initTimestep = Math.min(steps * strength, steps);
        return (int) Math.max(steps - initTimestep, 0);
    }

    /** One Euler step in place: x ← x + (σ_{i+1} − σ_i)·v. */
    public static void step(FloatTensor latents, FloatTensor velocity, Schedule schedule, int i) {
        float dt = schedule.sigmas()[i + 1] - schedule.sigmas()[i];
        float[] x = latents.data();
        float[] v = velocity.data();
        for (int k = 0; k < x.length; k++) {
            x[k] = x[k] + dt * v[k];
        }
    }

    /** The denoised estimate x0 = x − σ_i·v that previews show. */
    public static FloatTensor denoised(FloatTensor latents, FloatTensor velocity, float sigma) {
        float[] x = latents.data();
        float[] v = velocity.data();
        float[] out = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            out[k] = x[k] - sigma * v[k];
        }
        return new FloatTensor(latents.shape(), out);
    }
}
