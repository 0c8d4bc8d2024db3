package dev.sd3studio.engine.runtime.quant;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Quantizes one weight block by block into the {@link BlockLayout} (asymmetric: each block's range
 * [min(min, 0), max(max, 0)] is spread over the codes, so a block of equal signs keeps all its codes and
 * zero stays exact), and reads it back. Codes are packed low bits first along K, as MatMulNBits reads them.
 */
public final class BlockQuantizer {
    private BlockQuantizer() {
    }

    /** One weight's MatMulNBits inputs: packed codes [N, blocks, blob], scales [N·blocks], zero points [N, row bytes]. */
    public record Blocks(byte[] packed, float[] scales, byte[] zeroPoints) {
    }

    /** Columns quantized together: read row by row from a [K, N] weight, so memory is walked in order. */
    private static final int TILE = 64;

    /**
     * Quantizes {@code weight}, column tiles in parallel (the first start quantizes billions of weights).
     *
     * @param kMajor true for a MatMul weight stored [K, N] (row k, column n at k·N + n); false for one
     *               stored [N, K] (a Gemm with transB)
     */
    public static Blocks quantize(float[] weight, boolean kMajor, BlockLayout layout) {
        int k = layout.k();
        int n = layout.n();
        if ((long) k * n != weight.length) {
            throw new IllegalArgumentException(weight.length + " values for [" + k + ", " + n + "]");
        }
        Blocks out = new Blocks(new byte[Math.toIntExact(layout.packedBytes())], new float[Math.toIntExact(layout.scaleCount())],
                new byte[Math.toIntExact(layout.zeroPointBytes())]);
        int tiles = (n + TILE - 1) / TILE;
        java.util.stream.IntStream.range(0, tiles).parallel().forEach(tile -> {
            int from = tile * TILE;
            int to = Math.min(n, from + TILE);
            float[][] columns = new float[to - from][k];
            for (int i = 0; i < k; i++) {
                for (int col = from; col < to; col++) {
                    columns[col - from][i] = kMajor ? weight[i * n + col] : weight[col * k + i];
                }
            }
            for (int col = from; col < to; col++) {
                quantizeColumn(columns[col - from], col, layout, out);
            }
        });
        return out;
    }

    /** As {@link #quantize(float[], boolean, BlockLayout)}, into buffers (from their positions, little-endian). */
    public static void quantize(float[] weight, boolean kMajor, BlockLayout layout, ByteBuffer packed,
                                ByteBuffer scales, ByteBuffer zeroPoints) {
        Blocks b = quantize(weight, kMajor, layout);
        packed.put(b.packed());
        scales.order(ByteOrder.LITTLE_ENDIAN);
        for (float s : b.scales()) {
            scales.putFloat(s);
        }
        zeroPoints.put(b.zeroPoints());
    }

    private static void quantizeColumn(float[] column, int col, BlockLayout layout, Blocks out) {
        int k = layout.k();
        int blockSize = layout.blockSize();
        int blocks = layout.blocks();
        int maxCode = layout.maxCode();
        int blobBytes = layout.blobBytes();
        int zpRow = col * layout.zeroPointRowBytes();
        for (int b = 0; b < blocks; b++) {
            int from = b * blockSize;
            int to = Math.min(k, from + blockSize);
            float min = 0;
            float max = 0;
            for (int i = from; i < to; i++) {
                min = Math.min(min, column[i]);
                max = Math.max(max, column[i]);
            }
            float scale = (max - min) / maxCode;
            int zeroPoint;
            if (scale == 0 || !Float.isFinite(scale)) {
                scale = 1; // an all-zero block (or a broken one): every code is the zero point
                zeroPoint = layout.defaultZeroPoint();
            } else {
                zeroPoint = clamp(Math.round(-min / scale), maxCode);
            }
            int blockIndex = col * blocks + b;
            int blobAt = blockIndex * blobBytes;
            for (int i = 0; i < blockSize; i++) {
                // padding past K gets the zero point: it dequantizes to exactly 0
                int code = from + i < to ? clamp(Math.round(column[from + i] / scale) + zeroPoint, maxCode) : zeroPoint;
                put(out.packed(), blobAt, i, code, layout.bits());
            }
            out.scales()[blockIndex] = scale;
            put(out.zeroPoints(), zpRow, b, zeroPoint, layout.bits());
        }
    }

    /** The weight the buffers hold, as float32 [K, N]: (code − zero point) · scale. */
    public static float[] dequantize(BlockLayout layout, ByteBuffer packed, ByteBuffer scales, ByteBuffer zeroPoints) {
        ByteBuffer p = packed.duplicate();
        ByteBuffer s = scales.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer z = zeroPoints.duplicate();
        int k = layout.k();
        int n = layout.n();
        float[] out = new float[k * n];
        for (int col = 0; col < n; col++) {
            for (int b = 0; b < layout.blocks(); b++) {
                int blockIndex = col * layout.blocks() + b;
                float scale = s.getFloat(s.position() + blockIndex * 4);
                int zeroPoint = get(z, z.position() + col * layout.zeroPointRowBytes(), b, layout.bits());
                int blobAt = p.position() + blockIndex * layout.blobBytes();
                for (int i = 0; i < layout.blockSize() && b * layout.blockSize() + i < k; i++) {
                    int code = get(p, blobAt, i, layout.bits());
                    out[(b * layout.blockSize() + i) * n + col] = (code - zeroPoint) * scale;
                }
            }
        }
        return out;
    }

    private static int clamp(int code, int maxCode) {
        return Math.max(0, Math.min(maxCode, code));
    }

    private static void put(byte[] bytes, int rowAt, int index, int code, int bits) {
        if (bits == 8) {
            bytes[rowAt + index] = (byte) code;
        } else {
            int shift = (index & 1) * 4; // even index: low nibble
            bytes[rowAt + (index >> 1)] |= (byte) (code << shift);
        }
    }

    private static int get(ByteBuffer buffer, int rowAt, int index, int bits) {
        if (bits == 8) {
            return buffer.get(rowAt + index) & 0xff;
        }
        int b = buffer.get(rowAt + (index >> 1)) & 0xff;
        return (index & 1) == 0 ? b & 0x0f : b >>> 4;
    }
}
