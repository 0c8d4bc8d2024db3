package dev.sd3studio.app;

import dev.sd3studio.app.cli.Cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The training start that records the JDK's AOT cache when an installer is built
 * ({@code -Dsd3studio.aot.training=true}, see packaging/build-installer.sh): it walks the paths a
 * user's start takes — the command line's help and one small generation with the demo model, then
 * the studio window, which closes itself — so later starts find those classes already loaded and
 * linked. Never set by users.
 */
public final class AotTraining {
    public static final String PROPERTY = "sd3studio.aot.training";
    /** How long the training studio stays open: long enough to load the model's defaults. */
    public static final double STUDIO_SECONDS = 6;

    private AotTraining() {
    }

    public static boolean active() {
        return Boolean.getBoolean(PROPERTY);
    }

    /** Runs the command line as users do, output discarded; a failure fails the build. */
    public static void exerciseCommandLine() {
        PrintWriter sink = new PrintWriter(Writer.nullWriter());
        PrintWriter err = new PrintWriter(System.err, true);
        Path dir = null;
        try {
            dir = Files.createTempDirectory("sd3studio-aot");
            check(Cli.run(sink, err, "--help"), "--help");
            check(Cli.run(sink, err, "--version"), "--version");
            check(Cli.run(sink, err, "generate", "--prompt", "a large red circle in the center on a blue background",
                    "--steps", "4", "--seed", "1", "--out", dir.resolve("training.png").toString()), "generate");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteQuietly(dir);
        }
    }

    private static void check(int exit, String what) {
        if (exit != 0) {
            throw new IllegalStateException("AOT training: sd3studio " + what + " exited with " + exit);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind by a build is harmless
        }
    }
}
