package dev.sd3studio.engine.api;

import java.util.Locale;

/**
 * How the large linear layers of the transformer and T5 are held in memory. {@link #STORED} keeps the
 * export's own type; the others quantize each layer's weight block-wise at load (cached on disk, so only
 * the first start pays for it) and run it with ONNX Runtime's {@code MatMulNBits}.
 */
public enum WeightPrecision {
    /** The weights as the model files store them (fp16 or float32). */
    STORED(0),
    /** 8-bit blocks: about half of fp16, error barely measurable. */
    INT8(8),
    /** 4-bit blocks: about a quarter of fp16 plus block scales, visibly but mildly less faithful. */
    INT4(4);

    private final int bits;

    WeightPrecision(int bits) {
        this.bits = bits;
    }

    /** Bits per quantized weight, 0 for {@link #STORED}. */
    public int bits() {
        return bits;
    }

    /** {@code stored|int8|int4} (also {@code fp16}, {@code full} for stored), as the command line and settings write it. */
    public static WeightPrecision parse(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "stored", "full", "fp16", "fp32", "none" -> STORED;
            case "int8", "8" -> INT8;
            case "int4", "4" -> INT4;
            default -> throw new IllegalArgumentException("unknown weight precision '" + text
                    + "'; use stored, int8 or int4");
        };
    }

    /** The name {@link #parse} reads back. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Roughly how many bytes {@code storedBytes} of quantizable float weights take in this precision, with
     * {@code bytesPerStored} bytes per stored value (2 for fp16, 4 for float32): each block adds a float
     * scale and a zero point to its packed values.
     */
    public long estimatedBytes(long storedBytes, int bytesPerStored) {
        if (this == STORED) {
            return storedBytes;
        }
        long values = storedBytes / bytesPerStored;
        int block = this == INT8 ? 128 : 32;
        double bitsPerValue = bits + (32.0 + bits) / block;
        return (long) Math.ceil(values * bitsPerValue / 8);
    }
}
