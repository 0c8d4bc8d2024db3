package dev.sd3studio.app;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds the demo model that ships with the app: {@code assets/models/sd3-demo} under the
 * installation (the launcher passes it as {@code sd3studio.home}), or above the running jar.
 */
public final class BuiltInModel {
    public static final String RELATIVE = "assets/models/sd3-demo";

    private BuiltInModel() {
    }

    public static Optional<Path> find() {
        String home = System.getProperty("sd3studio.home");
        if (home != null) {
            Path p = Path.of(home).resolve(RELATIVE);
            if (Files.isDirectory(p)) {
                return Optional.of(p);
            }
        }
        try {
            Path here = Path.of(BuiltInModel.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path dir = here; dir != null; dir = dir.getParent()) {
                Path p = dir.resolve(RELATIVE);
                if (Files.isDirectory(p)) {
                    return Optional.of(p);
                }
            }
        } catch (URISyntaxException | SecurityException ignored) {
            // no code source: only sd3studio.home can tell
        }
        return Optional.empty();
    }
}
