package dev.sd3studio.app;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The app's version: the pom's version without a {@code -SNAPSHOT} suffix, written into the jar by
 * the build. The command line, the About dialog and the installers all show this one string.
 */
public final class AppVersion {
    private static final String NUMBER = load();

    private AppVersion() {
    }

    public static String number() {
        return NUMBER;
    }

    /** "SD3 Studio 0.1.0", as {@code sd3studio --version} prints it. */
    public static String display() {
        return "SD3 Studio " + NUMBER;
    }

    static String strip(String pomVersion) {
        return pomVersion.endsWith("-SNAPSHOT") ? pomVersion.substring(0, pomVersion.length() - "-SNAPSHOT".length())
                : pomVersion;
    }

    private static String load() {
        try (InputStream in = AppVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                throw new IllegalStateException("version.properties is missing from the build");
            }
            Properties p = new Properties();
            p.load(in);
            return strip(p.getProperty("version", "unknown"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
