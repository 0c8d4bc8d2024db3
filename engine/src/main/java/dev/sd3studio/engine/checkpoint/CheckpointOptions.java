package dev.sd3studio.engine.checkpoint;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What the user named besides the checkpoint: a config folder ({@code --config}), and text encoder files
 * ({@code --clip-l/--clip-g/--t5}) that take precedence over those found in or beside it.
 */
public record CheckpointOptions(Optional<Path> configDir, Optional<Path> clipL, Optional<Path> clipG,
                                Optional<Path> t5) {
    public static final CheckpointOptions NONE =
            new CheckpointOptions(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

    public CheckpointOptions withConfigDir(Path dir) {
        return new CheckpointOptions(Optional.of(dir), clipL, clipG, t5);
    }

    public CheckpointOptions withT5(Path file) {
        return new CheckpointOptions(configDir, clipL, clipG, Optional.of(file));
    }

    public CheckpointOptions withClipL(Path file) {
        return new CheckpointOptions(configDir, Optional.of(file), clipG, t5);
    }
}
