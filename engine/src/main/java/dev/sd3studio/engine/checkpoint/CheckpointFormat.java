package dev.sd3studio.engine.checkpoint;

/** How a checkpoint is laid out on disk. */
public enum CheckpointFormat {
    /** Stability AI's single file: MMDiT and VAE, perhaps the text encoders, perhaps a text_encoders/ folder beside it. */
    SINGLE_FILE,
    /** A diffusers folder: model_index.json and one folder per component. */
    DIFFUSERS_FOLDER
}
