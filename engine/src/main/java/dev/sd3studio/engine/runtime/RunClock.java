package dev.sd3studio.engine.runtime;

import java.util.concurrent.atomic.LongAdder;

/**
 * Wall time spent inside ONNX Runtime's {@code run} calls, summed over the whole process (every
 * session, every thread). The pipeline reads it before and after a generation, so the benchmark can
 * tell ORT's share of the wall time from everything else (conversions, scheduler, session creation).
 */
public final class RunClock {
    private static final LongAdder NANOS = new LongAdder();

    private RunClock() {
    }

    static void add(long nanos) {
        NANOS.add(nanos);
    }

    /** Nanoseconds spent in ORT runs since the process started. */
    public static long totalNanos() {
        return NANOS.sum();
    }
}
