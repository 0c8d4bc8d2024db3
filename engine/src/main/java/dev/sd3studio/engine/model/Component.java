package dev.sd3studio.engine.model;

import java.util.List;

/** The ONNX parts of an SD3 model folder, with the sub-folder names each layout uses. */
public enum Component {
    TEXT_ENCODER("text_encoder", "CLIP-L text encoder", true),
    TEXT_ENCODER_2("text_encoder_2", "CLIP-G text encoder", true),
    TEXT_ENCODER_3("text_encoder_3", "T5-XXL text encoder", false),
    TRANSFORMER("transformer", "MMDiT transformer", true),
    VAE_DECODER("vae_decoder", "VAE decoder", true),
    VAE_ENCODER("vae_encoder", "VAE encoder", false);

    private final String folder;
    private final String description;
    private final boolean required;

    Component(String folder, String description, boolean required) {
        this.folder = folder;
        this.description = description;
        this.required = required;
    }

    /** The Optimum sub-folder name, also the name used in messages and dumps. */
    public String folder() {
        return folder;
    }

    public String description() {
        return description;
    }

    /** Without it nothing can be generated (T5 can be dropped, the encoder is for img2img only). */
    public boolean required() {
        return required;
    }

    /** Folder names to look for, in order: Optimum first, then the TensorStack export's. */
    public List<String> folderCandidates() {
        return this == TRANSFORMER ? List.of("transformer", "unet") : List.of(folder);
    }
}
