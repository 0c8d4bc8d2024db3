package dev.sd3studio.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.EngineException;

import java.nio.file.Path;

/**
 * The VAE's latent scaling from its {@code config.json}. SD3's published values are the documented
 * fallback for an export that omits them.
 *
 * @param scaleFactor pixels per latent cell (2^(blocks−1), 8 for SD3)
 */
public record VaeConfig(double scalingFactor, double shiftFactor, int latentChannels, int scaleFactor) {
    public static final double SD3_SCALING = 1.5305;
    public static final double SD3_SHIFT = 0.0609;

    public static VaeConfig read(Path file) throws EngineException {
        JsonNode n = Json.readIfPresent(file);
        JsonNode blocks = n.path("block_out_channels");
        int scale = blocks.isArray() && !blocks.isEmpty() ? 1 << (blocks.size() - 1) : 8;
        return new VaeConfig(
                Json.number(n, "scaling_factor", SD3_SCALING),
                n.path("shift_factor").isNumber() ? n.path("shift_factor").asDouble() : SD3_SHIFT,
                Json.integer(n, "latent_channels", 16),
                scale);
    }
}
