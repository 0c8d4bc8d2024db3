package dev.sd3studio.app;

import dev.sd3studio.app.cli.Cli;

/**
 * Entry point of {@code sd3studio}: with no arguments the studio window opens, otherwise the
 * command line runs. Not a JavaFX Application itself, so it starts from a plain classpath.
 */
public final class Main {
    static final String NO_DISPLAY = "sd3studio: the studio needs a display; the command line works without one"
            + " (sd3studio --help, e.g. sd3studio generate --prompt TEXT --out FILE.png)";

    private Main() {
    }

    /** The message for a Linux session without X11 or Wayland, or null when a display may be there. */
    static String missingDisplay(java.util.Map<String, String> env, String os) {
        boolean unix = !os.toLowerCase(java.util.Locale.ROOT).startsWith("windows")
                && !os.toLowerCase(java.util.Locale.ROOT).startsWith("mac");
        boolean none = isBlank(env.get("DISPLAY")) && isBlank(env.get("WAYLAND_DISPLAY"));
        return unix && none ? NO_DISPLAY + " (neither DISPLAY nor WAYLAND_DISPLAY is set)." : null;
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    public static void main(String[] args) {
        // before anything loads ONNX Runtime: the GPU pack (or PyTorch's CUDA libraries) if present
        dev.sd3studio.app.gpu.GpuSetup.apply(dev.sd3studio.app.settings.AppDirs.detect());
        // otherwise the installer's CPU libraries, which need no extraction to the temp folder
        InstalledNatives.useIfUnset();
        if (AotTraining.active()) {
            AotTraining.exerciseCommandLine();
        }
        if (args.length == 0) {
            String missing = missingDisplay(System.getenv(), System.getProperty("os.name", ""));
            if (missing != null) {
                System.err.println(missing);
                System.exit(Cli.EXIT_USAGE);
            }
            try {
                dev.sd3studio.app.studio.StudioLauncher.launch(args);
            } catch (UnsupportedOperationException e) {
                // JavaFX says "Unable to open DISPLAY" when the variable names no reachable server
                System.err.println(NO_DISPLAY + " (" + e.getMessage() + ").");
                System.exit(Cli.EXIT_FAILED);
            }
            return;
        }
        System.exit(Cli.run(args));
    }
}
