package dev.sd3studio.engine.checkpoint;

import java.util.Locale;
import java.util.Optional;

/**
 * The released SD3 models, recognised from the MMDiT's keys and shapes as diffusers'
 * {@code infer_diffusers_model_type} does: SD3 Medium has no QK-norm and 24 blocks, SD3.5 Medium has QK-norm
 * and dual attention in its first blocks, SD3.5 Large has 38 blocks; in all of them the width is 64 × depth
 * (head dimension 64, one head per block). Large Turbo has Large's weights and other defaults, so only the
 * file's name tells it apart.
 */
public enum ModelFamily {
    SD3_MEDIUM("SD3 Medium", "sd3-medium", 28, 7.0),
    SD35_MEDIUM("SD3.5 Medium", "sd35-medium", 40, 4.5),
    SD35_LARGE("SD3.5 Large", "sd35-large", 28, 3.5),
    /** Per its model card: 4 steps without guidance. */
    SD35_LARGE_TURBO("SD3.5 Large Turbo", "sd35-large", 4, 0.0);

    private final String displayName;
    private final String configFolder;
    private final int defaultSteps;
    private final double defaultGuidance;

    ModelFamily(String displayName, String configFolder, int defaultSteps, double defaultGuidance) {
        this.displayName = displayName;
        this.configFolder = configFolder;
        this.defaultSteps = defaultSteps;
        this.defaultGuidance = defaultGuidance;
    }

    public String displayName() {
        return displayName;
    }

    /** The built-in transformer config's folder (Turbo shares Large's). */
    String configFolder() {
        return configFolder;
    }

    public int defaultSteps() {
        return defaultSteps;
    }

    public double defaultGuidance() {
        return defaultGuidance;
    }

    /** The family of an MMDiT of this shape, or empty for one that is none of them (a test model, a new release). */
    public static Optional<ModelFamily> detect(TransformerShape shape, String fileName) {
        if (shape.hidden() != 64L * shape.depth()) {
            return Optional.empty();
        }
        if (shape.depth() == 24 && !shape.qkNorm() && shape.dualAttentionBlocks().isEmpty()) {
            return Optional.of(SD3_MEDIUM);
        }
        if (shape.depth() == 24 && shape.qkNorm() && !shape.dualAttentionBlocks().isEmpty()
                && shape.dualAttentionBlocks().first() == 0) {
            return Optional.of(SD35_MEDIUM);
        }
        if (shape.depth() == 38 && shape.qkNorm() && shape.dualAttentionBlocks().isEmpty()) {
            return Optional.of(fileName.toLowerCase(Locale.ROOT).contains("turbo") ? SD35_LARGE_TURBO : SD35_LARGE);
        }
        return Optional.empty();
    }
}
