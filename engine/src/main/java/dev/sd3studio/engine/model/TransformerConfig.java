package dev.sd3studio.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.EngineException;

import java.nio.file.Path;

/**
 * The MMDiT's shape facts from its {@code config.json}. Values the file leaves out are filled from
 * the ONNX inputs when the transformer is opened (see {@code Sd3Transformer}); -1 means unknown.
 *
 * @param sampleSize latent size of the default image (× 8 = pixels)
 */
public record TransformerConfig(int sampleSize, int patchSize, int inChannels, int jointAttentionDim,
                                int pooledProjectionDim, int posEmbedMaxSize) {

    public static TransformerConfig read(Path file) throws EngineException {
        JsonNode n = Json.readIfPresent(file);
        return new TransformerConfig(
                Json.integerWithin(n, "sample_size", 128, 1, 4096, file),
                Json.integerWithin(n, "patch_size", 2, 1, 16, file),
                Json.integer(n, "in_channels", -1),
                Json.integer(n, "joint_attention_dim", -1),
                Json.integer(n, "pooled_projection_dim", -1),
                Json.integer(n, "pos_embed_max_size", -1));
    }
}
