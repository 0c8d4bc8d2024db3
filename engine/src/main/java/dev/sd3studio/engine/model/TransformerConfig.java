package dev.sd3studio.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.EngineException;

import java.nio.file.Path;

/**
 * The MMDiT's shape facts from its {@code config.json}. Values the file leaves out are filled from
 * the ONNX inputs when the transformer is opened (see {@code Sd3Transformer}); -1 means unknown.
 *
 * @param sampleSize         latent size of the default image (× 8 = pixels)
 * @param numLayers          the number of transformer blocks
 * @param qkNorm             whether attention normalises queries and keys (SD3.5)
 * @param dualAttentionLayers how many blocks have a second attention (SD3.5 Medium's MMDiT-X)
 */
public record TransformerConfig(int sampleSize, int patchSize, int inChannels, int jointAttentionDim,
                                int pooledProjectionDim, int posEmbedMaxSize, int numLayers, boolean qkNorm,
                                int dualAttentionLayers) {
    /** Stability AI's skip-layer guidance blocks for SD3.5 Medium (its model card; diffusers' example). */
    static final java.util.List<Integer> SD35_MEDIUM_SKIP_LAYERS = java.util.List.of(7, 8, 9);

    /**
     * The blocks the model's makers recommend for skip-layer guidance, known from the shapes: SD3.5 Medium
     * is the family with query/key norm and dual-attention blocks. Empty when there is no recommendation.
     */
    public java.util.List<Integer> recommendedSkipLayers() {
        boolean sd35Medium = qkNorm && dualAttentionLayers > 0;
        return sd35Medium && numLayers > SD35_MEDIUM_SKIP_LAYERS.getLast() ? SD35_MEDIUM_SKIP_LAYERS : java.util.List.of();
    }

    public static TransformerConfig read(Path file) throws EngineException {
        return of(Json.readIfPresent(file), file);
    }

    /** {@code source} names the config in messages: its file, or where a built-in one came from. */
    public static TransformerConfig of(JsonNode n, Object file) throws EngineException {
        return new TransformerConfig(
                Json.integerWithin(n, "sample_size", 128, 1, 4096, file),
                Json.integerWithin(n, "patch_size", 2, 1, 16, file),
                Json.integer(n, "in_channels", -1),
                Json.integer(n, "joint_attention_dim", -1),
                Json.integer(n, "pooled_projection_dim", -1),
                Json.integer(n, "pos_embed_max_size", -1),
                Json.integer(n, "num_layers", -1),
                n.path("qk_norm").isTextual(),
                n.path("dual_attention_layers").size());
    }
}
