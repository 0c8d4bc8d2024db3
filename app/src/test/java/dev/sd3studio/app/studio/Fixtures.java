package dev.sd3studio.app.studio;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/** The shared fixtures; a missing folder fails the test (never skips). */
public final class Fixtures {
    private Fixtures() {
    }

    public static Path root() {
        String p = System.getProperty("sd3.fixtures");
        if (p == null || !Files.isDirectory(Path.of(p))) {
            fail("fixtures not found: set -Dsd3.fixtures to the shared fixtures folder (got " + p + ")");
        }
        return Path.of(p);
    }

    public static Path tinySd3() {
        Path m = root().resolve("models/tiny-sd3");
        if (!Files.isDirectory(m)) {
            fail("missing fixture model " + m);
        }
        return m;
    }
}
