package dev.sd3studio.app;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds what ships with the app: the demo model {@code assets/models/sd3-demo}, and the real CLIP-L, CLIP-G
 * and T5 tokenizers that single checkpoint files need ({@code assets/tokenizers} in an installation; in a
 * source checkout the same files are the reference copies under {@code fixtures/tokenizers}), each under the
 * installation (the launcher passes it as {@code sd3studio.home}) or above the running jar.
 */
public final class BuiltInModel {
    public static final String RELATIVE = "assets/models/sd3-demo";
    private static final java.util.List<String> TOKENIZERS = java.util.List.of("assets/tokenizers", "fixtures/tokenizers");

    private BuiltInModel() {
    }

    public static Optional<Path> find() {
        return find(RELATIVE);
    }

    /** The folder with tokenizer/, tokenizer_2/ and tokenizer_3/ for checkpoints that carry none. */
    public static Optional<Path> tokenizers() {
        for (String relative : TOKENIZERS) {
            Optional<Path> p = find(relative).filter(d -> Files.isDirectory(d.resolve("tokenizer_3")));
            if (p.isPresent()) {
                return p;
            }
        }
        return Optional.empty();
    }

    private static Optional<Path> find(String relative) {
        String home = System.getProperty("sd3studio.home");
        if (home != null) {
            Path p = Path.of(home).resolve(relative);
            if (Files.isDirectory(p)) {
                return Optional.of(p);
            }
        }
        try {
            Path here = Path.of(BuiltInModel.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path dir = here; dir != null; dir = dir.getParent()) {
                Path p = dir.resolve(relative);
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
