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
        return of(Json.readIfPresent(file), file);
    }

    /** {@code source} names the config in messages: its file, or where a built-in one came from. */
    public static VaeConfig of(JsonNode n, Object file) throws EngineException {
        JsonNode blocks = n.path("block_out_channels");
        if (blocks.isArray() && blocks.size() > 6) {
            throw new EngineException(EngineException.Kind.CORRUPT_FILE, file + " lists " + blocks.size()
                    + " block_out_channels, more than any VAE has (SD3's has 4); restore it from the model download.");
        }
        int scale = blocks.isArray() && !blocks.isEmpty() ? 1 << (blocks.size() - 1) : 8;
        double scaling = Json.number(n, "scaling_factor", SD3_SCALING);
        if (!Double.isFinite(scaling) || scaling == 0) {
            throw new EngineException(EngineException.Kind.CORRUPT_FILE, file + " sets scaling_factor to " + scaling
                    + ", which cannot scale latents (SD3 uses " + SD3_SCALING + "); restore it from the model download.");
        }
        return new VaeConfig(
                scaling,
                n.path("shift_factor").isNumber() ? n.path("shift_factor").asDouble() : SD3_SHIFT,
                Json.integer(n, "latent_channels", 16),
                scale);
    }
}
