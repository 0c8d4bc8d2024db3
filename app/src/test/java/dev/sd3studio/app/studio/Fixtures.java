package dev.sd3studio.app.studio;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The conformance fixtures committed in the repository's {@code fixtures/} folder (or {@code -Dsd3.fixtures=DIR});
 * a missing folder fails the test (never skips).
 */
public final class Fixtures {
    private Fixtures() {
    }

    public static Path root() {
        // Maven passes the property; "../fixtures" is the same folder seen from a module (IDE runs).
        Path dir = Path.of(System.getProperty("sd3.fixtures", "../fixtures")).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir.resolve("models"))) {
            fail("fixtures not found at " + dir + "; they live in the repository's fixtures/ folder"
                    + " (or pass -Dsd3.fixtures=DIR)");
        }
        return dir;
    }

    public static Path tinySd3() {
        Path m = root().resolve("models/tiny-sd3");
        if (!Files.isDirectory(m)) {
            fail("missing fixture model " + m);
        }
        return m;
    }
}
