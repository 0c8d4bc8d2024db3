package dev.sd3studio.app;

import dev.sd3studio.app.cli.Cli;

/**
 * Entry point of {@code sd3studio}: with no arguments the studio window opens, otherwise the
 * command line runs. Not a JavaFX Application itself, so it starts from a plain classpath.
 */
public final class Main {
    private Main() {
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
            dev.sd3studio.app.studio.StudioLauncher.launch(args);
            return;
        }
        System.exit(Cli.run(args));
    }
}
