package dev.sd3studio.engine.api;

/**
 * Regenerates one picture of an earlier batch: the seed's noise is drawn for the whole batch of
 * {@code batchSize} (one draw, as diffusers does) and only image {@code index} of it is used.
 */
public record NoiseSlice(int batchSize, int index) {
    public NoiseSlice {
        if (batchSize < 1 || index < 0 || index >= batchSize) {
            throw new IllegalArgumentException("batch index " + index + " is outside a batch of " + batchSize);
        }
    }
}
