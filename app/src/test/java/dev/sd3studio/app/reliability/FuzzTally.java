package dev.sd3studio.app.reliability;

import java.util.ArrayList;
import java.util.List;

/**
 * Figures of one category of the fuzz suite; {@code notes} name each case that crashed or lost
 * something. Public so that categories needing a package's own helpers can live beside them.
 */
public final class FuzzTally {
    public final String category;
    int tried;
    int handled;
    int crashed;
    int lost;
    final List<String> notes = new ArrayList<>();

    public FuzzTally(String category) {
        this.category = category;
    }

    public void handled() {
        tried++;
        handled++;
    }

    public void crashed(String what) {
        tried++;
        crashed++;
        notes.add("crashed: " + what);
    }

    public void lost(String what) {
        tried++;
        lost++;
        notes.add("lost: " + what);
    }

    /** A user-facing error: one non-blank line without control characters (a terminal would act on them). */
    public static boolean isOneCleanLine(String message) {
        return message != null && !message.isBlank() && message.chars().noneMatch(c -> c < 0x20 || (c >= 0x7f && c < 0xa0));
    }
}
