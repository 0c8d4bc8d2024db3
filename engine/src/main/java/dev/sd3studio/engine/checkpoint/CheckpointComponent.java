package dev.sd3studio.engine.checkpoint;

/** The models a checkpoint holds, each with the folder a diffusers layout keeps it in. */
public enum CheckpointComponent {
    TRANSFORMER("transformer", "the MMDiT"),
    VAE("vae", "the VAE"),
    CLIP_L("text_encoder", "the CLIP-L text encoder"),
    CLIP_G("text_encoder_2", "the CLIP-G text encoder"),
    T5("text_encoder_3", "the T5 text encoder");

    private final String diffusersFolder;
    private final String description;

    CheckpointComponent(String diffusersFolder, String description) {
        this.diffusersFolder = diffusersFolder;
        this.description = description;
    }

    public String diffusersFolder() {
        return diffusersFolder;
    }

    public String description() {
        return description;
    }
}
