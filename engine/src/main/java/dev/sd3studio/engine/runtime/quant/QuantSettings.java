package dev.sd3studio.engine.runtime.quant;

import dev.sd3studio.engine.api.WeightPrecision;

/**
 * How linear layers are quantized.
 * <ul>
 *   <li>Block size: 32 at 4 bits (the block of stable-diffusion.cpp's q4_0, the size ORT's int4 kernels
 *       are tuned for; at 4 bits the error grows fast with the block, and 32 costs 1.1 extra bits per weight
 *       for scale and zero point), 128 at 8 bits (8-bit error is already small, and 128 keeps the overhead
 *       at 0.3 bits per weight).</li>
 *   <li>{@code minElements}: layers with fewer weights stay as they are: they hold almost no memory and
 *       would only add kernel overhead. Every linear layer of a full-size MMDiT or T5 is far above it
 *       (1536² = 2.4 M); it only decides which layers of tiny test models are quantized.</li>
 *   <li>{@code accuracyLevel}: MatMulNBits's compute type: 0 float32 (dequantized on the fly), 4 int8
 *       (activations quantized per block too; faster on CPUs with VNNI). Default 4: on the mid-size network
 *       its step took 5-6.7 s against 15-18 s at level 0, with the step error at 0.005 (int8) and 0.031
 *       (int4) against 0.0015 and 0.031 (README, "Quantized weights").</li>
 * </ul>
 */
public record QuantSettings(int bits, int blockSize, long minElements, int accuracyLevel) {
    public static final long DEFAULT_MIN_ELEMENTS = 4096;
    /** {@code -Dsd3studio.quant.accuracy=0|4} for measurements. */
    public static final String ACCURACY_PROPERTY = "sd3studio.quant.accuracy";

    public static QuantSettings of(WeightPrecision precision) {
        // level 4 measured 2.2-3x faster per step than 0 on the mid-size network, within the fidelity bars (README)
        int accuracy = Integer.getInteger(ACCURACY_PROPERTY, 4);
        return switch (precision) {
            case INT8 -> new QuantSettings(8, 128, DEFAULT_MIN_ELEMENTS, accuracy);
            case INT4 -> new QuantSettings(4, 32, DEFAULT_MIN_ELEMENTS, accuracy);
            case STORED -> throw new IllegalArgumentException("stored weights are not quantized");
        };
    }

    public QuantSettings withAccuracyLevel(int level) {
        return new QuantSettings(bits, blockSize, minElements, level);
    }

    public QuantSettings withMinElements(long min) {
        return new QuantSettings(bits, blockSize, min, accuracyLevel);
    }

    /** What the cached bytes depend on (the accuracy level changes only the node, not the weights). */
    String cacheKey() {
        return "bits=" + bits + ";block=" + blockSize + ";min=" + minElements;
    }
}
