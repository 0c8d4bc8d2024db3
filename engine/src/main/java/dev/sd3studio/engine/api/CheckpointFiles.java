package dev.sd3studio.engine.api;

import java.nio.file.Path;

/**
 * What a {@code .safetensors} checkpoint may need besides itself, each null when not given: a config folder
 * (a diffusers folder without weights) for models that are none of the released families, text encoder files
 * that take precedence over those in or beside the checkpoint, and the tokenizers a single file does not carry
 * (the app ships the real CLIP-L, CLIP-G and T5 ones).
 *
 * @param tokenizers a folder with {@code tokenizer/}, {@code tokenizer_2/} and {@code tokenizer_3/}
 */
public record CheckpointFiles(Path configDir, Path clipL, Path clipG, Path t5, Path tokenizers) {
    public static final CheckpointFiles NONE = new CheckpointFiles(null, null, null, null, null);

    public CheckpointFiles withTokenizers(Path dir) {
        return new CheckpointFiles(configDir, clipL, clipG, t5, dir);
    }
}
