package dev.sd3studio.app.settings;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AppDirsTest {
    private final Path home = Path.of("/home/u");

    @Test
    void linuxFollowsXdgAndIgnoresRelativeValues() {
        AppDirs d = AppDirs.detect(null, Map.of("XDG_CONFIG_HOME", "/c", "XDG_DATA_HOME", "rel"), "Linux", home);
        assertEquals(Path.of("/c/sd3studio"), d.config());
        assertEquals(Path.of("/home/u/.local/share/sd3studio"), d.data());
    }

    @Test
    void windowsUsesAppData() {
        AppDirs d = AppDirs.detect(null, Map.of("APPDATA", "/appdata"), "Windows 11", home);
        assertEquals(Path.of("/appdata/SD3 Studio"), d.config());
    }

    @Test
    void thePropertyOverridesEverything() {
        AppDirs d = AppDirs.detect("/tmp/x", Map.of("XDG_CONFIG_HOME", "/c"), "Linux", home);
        assertEquals(Path.of("/tmp/x/config/settings.json"), d.settingsFile());
        assertEquals(Path.of("/tmp/x/data/gallery"), d.defaultGallery());
    }
}
