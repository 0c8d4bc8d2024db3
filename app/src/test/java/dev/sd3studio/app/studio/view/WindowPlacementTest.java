package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.settings.Settings;
import javafx.geometry.Rectangle2D;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WindowPlacementTest {
    private static final Rectangle2D FULL_HD = new Rectangle2D(0, 0, 1920, 1080);
    /** A 1920×1080 screen at 200 % scaling, as JavaFX reports it. */
    private static final Rectangle2D FULL_HD_AT_200 = new Rectangle2D(0, 0, 960, 540);

    @Test
    void theDefaultSizeOpensCentredOnALargeScreen() {
        WindowPlacement p = WindowPlacement.fit(Settings.Window.defaults(), List.of(FULL_HD), FULL_HD);
        assertEquals(new WindowPlacement(320, 120, 1280, 800), p);
    }

    @Test
    void at200PercentTheWindowShrinksToTheScreenInsteadOfRunningOffIt() {
        WindowPlacement p = WindowPlacement.fit(Settings.Window.defaults(), List.of(FULL_HD_AT_200), FULL_HD_AT_200);
        assertEquals(960, p.width());
        assertEquals(540 - WindowPlacement.DECORATION, p.height());
        assertInside(p, FULL_HD_AT_200);
    }

    @Test
    void aPlaceOnAMonitorThatIsGoneMovesToThePrimaryScreen() {
        Settings.Window saved = new Settings.Window(2500, 300, 1000, 700, false, 0.3, 0.7);
        WindowPlacement p = WindowPlacement.fit(saved, List.of(FULL_HD), FULL_HD);
        assertEquals(1000, p.width());
        assertInside(p, FULL_HD);
    }

    @Test
    void aRememberedPlaceIsKeptAndPulledBackWhenItWouldHangOffTheEdge() {
        Rectangle2D right = new Rectangle2D(1920, 0, 1920, 1080);
        Settings.Window kept = new Settings.Window(2000, 100, 1000, 700, false, 0.3, 0.7);
        assertEquals(new WindowPlacement(2000, 100, 1000, 700), WindowPlacement.fit(kept, List.of(FULL_HD, right), FULL_HD));
        Settings.Window hanging = new Settings.Window(1700, 600, 1000, 700, false, 0.3, 0.7);
        WindowPlacement p = WindowPlacement.fit(hanging, List.of(FULL_HD, right), FULL_HD);
        assertInside(p, FULL_HD);
    }

    @Test
    void aTinyRememberedSizeStillOpensAt800x600() {
        Settings.Window tiny = new Settings.Window(10, 10, 300, 200, false, 0.3, 0.7);
        WindowPlacement p = WindowPlacement.fit(tiny, List.of(FULL_HD), FULL_HD);
        assertEquals(800, p.width());
        assertEquals(600, p.height());
    }

    private static void assertInside(WindowPlacement p, Rectangle2D screen) {
        assertTrue(p.x() >= screen.getMinX() && p.y() >= screen.getMinY()
                && p.x() + p.width() <= screen.getMaxX()
                && p.y() + p.height() + WindowPlacement.DECORATION <= screen.getMaxY(), p + " inside " + screen);
    }
}
