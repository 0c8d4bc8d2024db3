package dev.sd3studio.app.hub;

import java.time.Duration;

/** A smoothed bytes-per-second rate, so the ETA does not jump with every packet. */
final class TransferRate {
    private static final double WINDOW_SECONDS = 5;
    private long lastBytes = -1;
    private long lastNanos;
    private double rate;

    synchronized void update(long totalBytes, long nowNanos) {
        if (lastBytes < 0) {
            lastBytes = totalBytes;
            lastNanos = nowNanos;
            return;
        }
        double dt = (nowNanos - lastNanos) / 1e9;
        if (dt < 0.2) {
            return;
        }
        double instant = (totalBytes - lastBytes) / dt;
        double alpha = Math.min(1, dt / WINDOW_SECONDS);
        rate = rate == 0 ? instant : rate + alpha * (instant - rate);
        lastBytes = totalBytes;
        lastNanos = nowNanos;
    }

    /** Forget the history (after a pause the old speed says nothing). */
    synchronized void reset() {
        lastBytes = -1;
        rate = 0;
    }

    synchronized double bytesPerSecond() {
        return rate;
    }

    synchronized Duration eta(long remaining) {
        return rate <= 1 ? null : Duration.ofSeconds((long) Math.ceil(remaining / rate));
    }
}
