package dev.sd3studio.app.studio;

/**
 * Opens the studio window. A plain class, so {@code Main} starts JavaFX from the classpath without
 * being an Application subclass itself (which the JavaFX launcher would otherwise insist on).
 */
public final class StudioLauncher {
    private StudioLauncher() {
    }

    public static void launch(String[] args) {
        javafx.application.Application.launch(StudioApp.class, args);
    }
}
