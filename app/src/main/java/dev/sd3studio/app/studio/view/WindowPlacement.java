package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.settings.Settings;
import javafx.geometry.Rectangle2D;

import java.util.List;

/**
 * Where the studio window opens: the remembered size and place, made to fit the screen it will be on.
 * At 200 % scaling a 1920×1080 screen is 960×540 logical pixels, smaller than the 1280×800 default, and
 * a remembered place may be on a monitor that is gone; either way the window must open whole and on
 * a screen. The size asked for never goes below 800×600 unless the screen itself is smaller.
 */
record WindowPlacement(double x, double y, double width, double height) {
    static final double MIN_WIDTH = 800;
    static final double MIN_HEIGHT = 600;
    /** Room for the title bar the window manager adds above the scene. */
    static final double DECORATION = 40;

    /** {@code screens}: each screen's visual bounds (without task bars); {@code primary}: where a new window goes. */
    static WindowPlacement fit(Settings.Window saved, List<Rectangle2D> screens, Rectangle2D primary) {
        boolean placed = !Double.isNaN(saved.x()) && !Double.isNaN(saved.y());
        Rectangle2D screen = placed ? screens.stream().filter(r -> r.contains(saved.x() + 1, saved.y() + 1))
                .findFirst().orElse(null) : null;
        boolean onScreen = screen != null;
        if (!onScreen) {
            screen = primary;
        }
        double width = Math.min(Math.max(MIN_WIDTH, saved.width()), screen.getWidth());
        double height = Math.min(Math.max(MIN_HEIGHT, saved.height()), Math.max(0, screen.getHeight() - DECORATION));
        double x = onScreen ? clamp(saved.x(), screen.getMinX(), screen.getMaxX() - width)
                : screen.getMinX() + (screen.getWidth() - width) / 2;
        double y = onScreen ? clamp(saved.y(), screen.getMinY(), screen.getMaxY() - height - DECORATION)
                : screen.getMinY() + (screen.getHeight() - height - DECORATION) / 2;
        return new WindowPlacement(x, y, width, height);
    }

    private static double clamp(double v, double min, double max) {
        return Math.max(min, Math.min(v, Math.max(min, max)));
    }
}
