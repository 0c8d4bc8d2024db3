package dev.sd3studio.engine.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sd3studio.engine.model.SchedulerConfig;
import org.junit.jupiter.api.Test;

/** {@code t_start = int(N − min(N·strength, N))} in double precision, as the reference computes it. */
class StrengthTest {
    @Test
    void strengthZeroSkipsEveryStep() {
        assertEquals(28, FlowMatchEulerScheduler.startStep(28, 0.0));
        assertEquals(1, FlowMatchEulerScheduler.startStep(1, 0.0));
    }

    @Test
    void strengthOneRunsEveryStep() {
        assertEquals(0, FlowMatchEulerScheduler.startStep(28, 1.0));
        assertEquals(0, FlowMatchEulerScheduler.startStep(1, 1.0));
    }

    /** The fixtures' cases: 6·0.3 = 1.7999… so t_start = int(4.2000…) = 4 (2 steps run); 5·0.6 = 3 → 2. */
    @Test
    void floatRoundingAsTheReference() {
        assertEquals(4, FlowMatchEulerScheduler.startStep(6, 0.3));
        assertEquals(2, FlowMatchEulerScheduler.startStep(5, 0.6));
        assertEquals(11, FlowMatchEulerScheduler.startStep(28, 0.6)); // 28 − 16.8 = 11.2
    }

    /** int() truncates, so any strength that moves N·strength at all runs the last step. */
    @Test
    void tinyStrengthRunsOneStep() {
        assertEquals(27, FlowMatchEulerScheduler.startStep(28, 0.01)); // int(27.72)
        assertEquals(99, FlowMatchEulerScheduler.startStep(100, 0.01)); // int(99.0)
        assertEquals(99, FlowMatchEulerScheduler.startStep(100, 0.001));
        assertEquals(100, FlowMatchEulerScheduler.startStep(100, 1e-300)); // 100 − 1e-298 == 100.0
    }

    @Test
    void strengthAboveOneIsCappedAtAllSteps() {
        assertEquals(0, FlowMatchEulerScheduler.startStep(10, 1.5));
    }

    /** σ at t_start for strength 1 is exactly 1, so the start latents are pure noise. */
    @Test
    void firstSigmaIsExactlyOne() {
        for (int steps : new int[] {1, 2, 6, 28, 100}) {
            var schedule = new FlowMatchEulerScheduler(SchedulerConfig.SD3_DEFAULT).schedule(steps, 4096);
            assertEquals(1.0f, schedule.sigmas()[FlowMatchEulerScheduler.startStep(steps, 1.0)], "steps " + steps);
            assertEquals(steps, schedule.from(0).steps());
        }
    }
}
