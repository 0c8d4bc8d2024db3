package dev.sd3studio.app.settings;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The platform's conventional places for settings and data: XDG on Linux, %APPDATA% on Windows,
 * Application Support on macOS. The system property {@code sd3studio.data} puts both under one
 * folder, so tests (and portable installs) never touch the real user profile.
 */
public record AppDirs(Path config, Path data) {
    public static final String PROPERTY = "sd3studio.data";
    private static final String NAME = "sd3studio";

    public static AppDirs detect() {
        return detect(System.getProperty(PROPERTY), System.getenv(), System.getProperty("os.name", ""),
                Path.of(System.getProperty("user.home", ".")));
    }

    static AppDirs detect(String override, Map<String, String> env, String os, Path home) {
        if (override != null && !override.isBlank()) {
            Path base = Path.of(override);
            return new AppDirs(base.resolve("config"), base.resolve("data"));
        }
        String o = os.toLowerCase(Locale.ROOT);
        if (o.contains("win")) {
            Path appData = env.containsKey("APPDATA") ? Path.of(env.get("APPDATA")) : home.resolve("AppData/Roaming");
            Path base = appData.resolve("SD3 Studio");
            return new AppDirs(base, base);
        }
        if (o.contains("mac")) {
            Path base = home.resolve("Library/Application Support/SD3 Studio");
            return new AppDirs(base, base);
        }
        Path config = xdg(env, "XDG_CONFIG_HOME", home.resolve(".config"));
        Path data = xdg(env, "XDG_DATA_HOME", home.resolve(".local/share"));
        return new AppDirs(config.resolve(NAME), data.resolve(NAME));
    }

    private static Path xdg(Map<String, String> env, String key, Path fallback) {
        String v = env.get(key);
        // the XDG spec says relative values are invalid and must be ignored
        return v != null && Path.of(v).isAbsolute() ? Path.of(v) : fallback;
    }

    public Path settingsFile() {
        return config.resolve("settings.json");
    }

    public Path defaultGallery() {
        return data.resolve("gallery");
    }
}
