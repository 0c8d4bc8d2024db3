package dev.sd3studio.app.studio.vm;

import java.time.Duration;
import java.util.Locale;

/** Step i/N, speed and ETA as one line, computed from the engine's step events. */
record Progress(int step, int total, Duration elapsed) {
    double fraction() {
        return total == 0 ? 0 : (double) step / total;
    }

    String text() {
        double secs = elapsed.toNanos() / 1e9;
        if (step == 0 || secs <= 0) {
            return "Step " + step + "/" + total;
        }
        double perStep = secs / step;
        String speed = perStep >= 1 ? String.format(Locale.ROOT, "%.1f s/it", perStep)
                : String.format(Locale.ROOT, "%.1f it/s", 1 / perStep);
        long eta = Math.round(perStep * (total - step));
        return String.format(Locale.ROOT, "Step %d/%d · %s · ETA %d:%02d", step, total, speed, eta / 60, eta % 60);
    }
}
