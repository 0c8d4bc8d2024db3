package dev.sd3studio.engine.runtime.quant;

/**
 * The shape of one weight in ONNX Runtime's {@code com.microsoft.MatMulNBits} layout: for a MatMul
 * weight [K, N], {@code B} is uint8 [N, blocks, blobBytes] (each output column's K values cut into
 * blocks along K, the last block padded), {@code scales} is [N·blocks] and {@code zero_points} is
 * uint8 [N·zeroPointRowBytes], each row of block zero points packed to whole bytes.
 */
public record BlockLayout(int k, int n, int bits, int blockSize) {
    public BlockLayout {
        if (bits != 4 && bits != 8) {
            throw new IllegalArgumentException("bits must be 4 or 8, not " + bits);
        }
        if (blockSize < 16 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two from 16, not " + blockSize);
        }
        if (k <= 0 || n <= 0) {
            throw new IllegalArgumentException("empty weight [" + k + ", " + n + "]");
        }
    }

    public int blocks() {
        return (k + blockSize - 1) / blockSize;
    }

    public int blobBytes() {
        return blockSize * bits / 8;
    }

    public int zeroPointRowBytes() {
        return (blocks() * bits + 7) / 8;
    }

    public long packedBytes() {
        return (long) n * blocks() * blobBytes();
    }

    public long scaleCount() {
        return (long) n * blocks();
    }

    public long zeroPointBytes() {
        return (long) n * zeroPointRowBytes();
    }

    /** The zero point MatMulNBits assumes when the input is absent: the middle code. */
    public int defaultZeroPoint() {
        return 1 << (bits - 1);
    }

    /** The largest code. */
    public int maxCode() {
        return (1 << bits) - 1;
    }
}
