package dev.sd3studio.app.cli;

import java.io.Console;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * One self-rewriting status line on a terminal's stderr: the stage, then "step i/N · speed · ETA".
 * Silent when stderr is not a terminal (logs and pipes get only warnings and errors).
 */
final class CliProgress {
    private final PrintWriter err;
    private final boolean enabled;
    private boolean lineOpen;

    CliProgress(PrintWriter err, boolean enabled) {
        this.err = err;
        this.enabled = enabled;
    }

    /** Whether a person is watching: a console that is a real terminal. */
    static boolean isTerminal() {
        Console c = System.console();
        return c != null && c.isTerminal();
    }

    void stage(String name) {
        if (!name.equals("denoise")) {
            show(name + "…");
        }
    }

    void step(int step, int total, Duration elapsed) {
        show(line(step, total, elapsed));
    }

    /** "step 3/28 · 9.4 it/s · ETA 0:03". */
    static String line(int step, int total, Duration elapsed) {
        double secs = elapsed.toNanos() / 1e9;
        if (step == 0 || secs <= 0) {
            return "step " + step + "/" + total;
        }
        double perStep = secs / step;
        String speed = perStep >= 1 ? String.format(Locale.ROOT, "%.1f s/it", perStep)
                : String.format(Locale.ROOT, "%.1f it/s", 1 / perStep);
        long eta = Math.round(perStep * (total - step));
        return String.format(Locale.ROOT, "step %d/%d · %s · ETA %d:%02d", step, total, speed, eta / 60, eta % 60);
    }

    /** "seed 42" or "seed 42, image 3 of 4": what reproduces one written picture. */
    static String origin(Map<String, String> parameters) {
        String seed = parameters.getOrDefault("seed", "?");
        int size = Integer.parseInt(parameters.getOrDefault("batch_size", "1"));
        return size > 1 ? "seed " + seed + ", image " + (Integer.parseInt(parameters.get("batch_index")) + 1)
                + " of " + size : "seed " + seed;
    }

    private void show(String text) {
        if (enabled) {
            err.print("\r" + text + "\033[K");
            err.flush();
            lineOpen = true;
        }
    }

    /** Ends the status line so the next message starts on its own line. */
    void clearLine() {
        if (lineOpen) {
            err.print("\r\033[K");
            err.flush();
            lineOpen = false;
        }
    }

    void end() {
        if (lineOpen) {
            err.println();
            lineOpen = false;
        }
    }
}
