package dev.sd3studio.app.cli;

import dev.sd3studio.app.BuiltInModel;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --model DIR}, defaulting to the built-in demo model. */
final class ModelOption {
    @Option(names = "--model", paramLabel = "DIR",
            description = "SD3 ONNX model folder (Optimum or TensorStack layout); default: the built-in demo model")
    Path model;

    Path resolve() throws CliException {
        if (model != null) {
            return model;
        }
        return BuiltInModel.find().orElseThrow(() -> new CliException("no --model given and the built-in demo model"
                + " was not found (" + BuiltInModel.RELATIVE + "); pass --model DIR.", Cli.EXIT_USAGE));
    }
}
