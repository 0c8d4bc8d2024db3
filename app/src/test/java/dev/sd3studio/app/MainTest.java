package dev.sd3studio.app;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Without a display the studio says so in one line and points to the command line. */
class MainTest {
    @Test
    void noDisplayIsOneClearLine() {
        String m = Main.missingDisplay(Map.of(), "Linux");
        assertTrue(m.contains("needs a display") && m.contains("command line works"), m);
        assertTrue(m.lines().count() == 1);
        assertNull(Main.missingDisplay(Map.of("DISPLAY", ":0"), "Linux"));
        assertNull(Main.missingDisplay(Map.of("WAYLAND_DISPLAY", "wayland-0"), "Linux"));
        assertNull(Main.missingDisplay(Map.of(), "Windows 11"));
    }
}
