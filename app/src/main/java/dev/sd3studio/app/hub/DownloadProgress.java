package dev.sd3studio.app.hub;

import java.time.Duration;
import java.util.Locale;

/**
 * Where a download stands: the file being fetched, bytes done of the total (all files), the
 * recent speed and the time left at that speed ({@code null} while unknown).
 */
public record DownloadProgress(State state, String file, long done, long total, double bytesPerSecond,
                               Duration eta, String note) {
    public enum State {
        DOWNLOADING, VERIFYING, PAUSED, RETRYING, DONE,
        /** A warning: {@code file} was installed without a hash check; {@code note} says why. */
        UNVERIFIED
    }

    public double fraction() {
        return total <= 0 ? 1 : Math.min(1, (double) done / total);
    }

    /** One line for a terminal or a status label. */
    public String describe() {
        String base = String.format(Locale.ROOT, "%s / %s (%.0f%%)", Sizes.human(done), Sizes.human(total), fraction() * 100);
        return switch (state) {
            case DOWNLOADING -> base + "  " + Sizes.human((long) bytesPerSecond) + "/s"
                    + (eta == null ? "" : "  ETA " + Sizes.duration(eta)) + "  " + file;
            case VERIFYING -> base + "  verifying " + file;
            case PAUSED -> base + "  paused";
            case RETRYING -> base + "  " + note;
            case DONE -> base + "  done";
            case UNVERIFIED -> base + "  warning: " + file + " " + note;
        };
    }
}
