package dev.sd3studio.app.studio;

/** Opens the studio window (placeholder until the studio lands). */
public final class StudioLauncher {
    private StudioLauncher() {
    }

    public static void launch(String[] args) {
        javafx.application.Application.launch(StudioApp.class, args);
    }
}
