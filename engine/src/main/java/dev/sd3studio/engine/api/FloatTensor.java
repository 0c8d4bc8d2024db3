package dev.sd3studio.engine.api;

import java.util.Arrays;

/**
 * A dense float32 tensor in row-major (C) order. The engine's one value type for embeddings,
 * latents and images; ONNX tensors are created from it and copied back into it, so it never
 * holds a native handle.
 */
public final class FloatTensor {
    private final long[] shape;
    private final float[] data;

    public FloatTensor(long[] shape, float[] data) {
        long n = elementCount(shape);
        if (n != data.length) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
        this.shape = shape.clone();
        this.data = data;
    }

    public static FloatTensor zeros(long... shape) {
        return new FloatTensor(shape, new float[Math.toIntExact(elementCount(shape))]);
    }

    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int axis) {
        return shape[axis < 0 ? shape.length + axis : axis];
    }

    /** The backing array, shared: callers that keep it must not mutate it. */
    public float[] data() {
        return data;
    }

    public FloatTensor copy() {
        return new FloatTensor(shape, data.clone());
    }

    /** Number of values in one item of the leading (batch) axis. */
    public int itemSize() {
        return data.length / (int) shape[0];
    }

    /** Items {@code from} (inclusive) to {@code to} (exclusive) of the leading axis, copied. */
    public FloatTensor slice(int from, int to) {
        int item = itemSize();
        long[] s = shape.clone();
        s[0] = to - from;
        return new FloatTensor(s, Arrays.copyOfRange(data, from * item, to * item));
    }

    /** Concatenation along the leading axis. */
    public static FloatTensor concatBatch(FloatTensor... parts) {
        long[] s = parts[0].shape.clone();
        long total = 0;
        for (FloatTensor p : parts) {
            if (p.rank() != s.length || !Arrays.equals(p.shape, 1, s.length, s, 1, s.length)) {
                throw new IllegalArgumentException("cannot stack " + Arrays.toString(p.shape)
                        + " onto " + Arrays.toString(s));
            }
            total += p.shape[0];
        }
        s[0] = total;
        float[] out = new float[Math.toIntExact(elementCount(s))];
        int pos = 0;
        for (FloatTensor p : parts) {
            System.arraycopy(p.data, 0, out, pos, p.data.length);
            pos += p.data.length;
        }
        return new FloatTensor(s, out);
    }

    /** Each item of the leading axis repeated {@code times} times consecutively (a, a, b, b). */
    public FloatTensor repeatEachItem(int times) {
        if (times == 1) {
            return this;
        }
        int item = itemSize();
        long[] s = shape.clone();
        s[0] = shape[0] * times;
        float[] out = new float[data.length * times];
        for (int b = 0; b < shape[0]; b++) {
            for (int r = 0; r < times; r++) {
                System.arraycopy(data, b * item, out, (b * times + r) * item, item);
            }
        }
        return new FloatTensor(s, out);
    }

    /** The index of the first value that is NaN or infinite, or -1. */
    public int firstNonFinite() {
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                return i;
            }
        }
        return -1;
    }

    public float maxAbsDifference(FloatTensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException(
                    "shapes differ: " + Arrays.toString(shape) + " vs " + Arrays.toString(other.shape));
        }
        float max = 0;
        for (int i = 0; i < data.length; i++) {
            max = Math.max(max, Math.abs(data[i] - other.data[i]));
        }
        return max;
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
