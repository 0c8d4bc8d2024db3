package dev.sd3studio.app.cli;

import dev.sd3studio.app.BuiltInModel;
import dev.sd3studio.engine.api.CheckpointFiles;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * {@code --model PATH}, defaulting to the built-in demo model, and what a {@code .safetensors} checkpoint
 * may need besides itself.
 */
final class ModelOption {
    @Option(names = "--model", paramLabel = "PATH",
            description = "SD3 ONNX model folder (Optimum or TensorStack layout), .safetensors checkpoint file or"
                    + " diffusers folder; default: the built-in demo model")
    Path model;
    @Option(names = "--config", paramLabel = "DIR",
            description = "checkpoints: a diffusers folder without weights whose configs override the built-in ones")
    Path configDir;
    @Option(names = "--clip-l", paramLabel = "FILE", description = "checkpoints: the CLIP-L text encoder file to use")
    Path clipL;
    @Option(names = "--clip-g", paramLabel = "FILE", description = "checkpoints: the CLIP-G text encoder file to use")
    Path clipG;
    @Option(names = "--t5", paramLabel = "FILE", description = "checkpoints: the T5 text encoder file to use (fp16 or fp8)")
    Path t5;

    /** The checkpoint extras, with the tokenizers SD3 Studio ships for files that carry none. */
    CheckpointFiles checkpointFiles() {
        return new CheckpointFiles(configDir, clipL, clipG, t5, BuiltInModel.tokenizers().orElse(null));
    }

    Path resolve() throws CliException {
        if (model != null) {
            return model;
        }
        return BuiltInModel.find().orElseThrow(() -> new CliException("no --model given and the built-in demo model"
                + " was not found (" + BuiltInModel.RELATIVE + "); pass --model DIR.", Cli.EXIT_USAGE));
    }
}
