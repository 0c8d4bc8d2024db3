package dev.sd3studio.engine.diffusion;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.diffusion.FlowMatchEulerScheduler.Schedule;
import dev.sd3studio.engine.model.SchedulerConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The schedule formula by formula, against the reference's numbers (sd3-pipeline.md §4). */
class FlowMatchEulerSchedulerTest {
    private final FlowMatchEulerScheduler sd3 = new FlowMatchEulerScheduler(SchedulerConfig.SD3_DEFAULT);

    @Test
    void fourStepsOfSd3AreTheReferenceValues() {
        Schedule s = sd3.schedule(4, 16);
        assertArrayEquals(new float[] {1f, 0.8576923f, 0.60215056f, 0.00892857f, 0f}, s.sigmas(), 1e-7f);
        assertEquals(8.928572f, s.timesteps()[3], 1e-5f);
        assertEquals(1000f, s.timesteps()[0]);
    }

    @Test
    void everyGoldenScheduleIsBitExact() throws Exception {
        for (Path dir : Fixtures.cases()) {
            int steps = Fixtures.caseJson(dir).path("num_inference_steps").asInt();
            Schedule s = sd3.schedule(steps, 16);
            FloatTensor sigmas = Fixtures.tensor(dir, "sigmas");
            FloatTensor timesteps = Fixtures.tensor(dir, "scheduler_timesteps");
            assertArrayEquals(sigmas.data(), s.sigmas(), 0f, dir.getFileName() + " sigmas");
            assertArrayEquals(timesteps.data(), s.timesteps(), 0f, dir.getFileName() + " timesteps");
        }
    }

    @Test
    void shiftOneIsTheLinearSchedule() {
        Schedule s = new FlowMatchEulerScheduler(SchedulerConfig.SD3_DEFAULT.withShift(1.0)).schedule(3, 16);
        assertArrayEquals(new float[] {1f, 0.5005f, 0.001f, 0f}, s.sigmas(), 1e-6f);
    }

    @Test
    void dynamicShiftingInterpolatesMuInTheTokenCount() {
        SchedulerConfig dynamic = new SchedulerConfig(1000, 3.0, true, 0.5, 1.15, 256, 4096, null, true);
        FlowMatchEulerScheduler s = new FlowMatchEulerScheduler(dynamic);
        assertEquals(0.5, s.mu(256), 1e-12);
        assertEquals(1.15, s.mu(4096), 1e-12);
        Schedule schedule = s.schedule(2, 4096);
        // σ = e^μ / (e^μ + (1/t − 1)) at t = 1 and t = 0.001 (unshifted training sigmas)
        double mu = 1.15;
        assertEquals(1f, schedule.sigmas()[0], 0f);
        assertEquals((float) (Math.exp(mu) / (Math.exp(mu) + (1 / 0.001 - 1))), schedule.sigmas()[1], 1e-8f);
    }

    @Test
    void linspaceEndsExactlyAtStop() {
        double[] y = FlowMatchEulerScheduler.linspace(1000, 2.994, 7);
        assertEquals(1000, y[0]);
        assertEquals(2.994, y[6]);
        assertEquals(1, FlowMatchEulerScheduler.linspace(5, 9, 1).length);
    }

    @Test
    void imageToImageStartStepFollowsTheReferenceRounding() {
        assertEquals(4, FlowMatchEulerScheduler.startStep(6, 0.3), "6·0.3 = 1.7999… so 4 steps are skipped");
        assertEquals(2, FlowMatchEulerScheduler.startStep(5, 0.6));
        assertEquals(0, FlowMatchEulerScheduler.startStep(28, 1.0));
        assertEquals(28, FlowMatchEulerScheduler.startStep(28, 0.0));
    }

    @Test
    void eulerStepAndDenoisedEstimate() {
        Schedule s = new Schedule(new float[] {1f, 0.25f, 0f}, new float[] {1000f, 250f});
        FloatTensor x = new FloatTensor(new long[] {1, 2}, new float[] {1f, 2f});
        FloatTensor v = new FloatTensor(new long[] {1, 2}, new float[] {4f, -4f});
        FloatTensor x0 = FlowMatchEulerScheduler.denoised(x, v, 1f);
        assertArrayEquals(new float[] {-3f, 6f}, x0.data());
        FlowMatchEulerScheduler.step(x, v, s, 0);
        assertArrayEquals(new float[] {-2f, 5f}, x.data());
    }
}
