package dev.sd3studio.engine.checkpoint;

import dev.sd3studio.engine.format.SafetensorsDType;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Where one weight's bytes are: a checked range of a safetensors file, row-major little-endian.
 * The graph builders point ONNX external data at exactly this range; nothing is copied.
 *
 * @param file   the file, as the containment rule resolved it (no symlink left to escape through)
 * @param offset absolute byte position in the file
 * @param length bytes, = elements × dtype size
 */
public record WeightRef(Path file, long offset, long length, SafetensorsDType dtype, long[] shape) {
    public WeightRef {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long dim(int axis) {
        return shape[axis < 0 ? shape.length + axis : axis];
    }

    public int rank() {
        return shape.length;
    }

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /**
     * Rows {@code [from, to)} along the first axis: one contiguous byte range of the same file, which is how
     * a fused tensor (q|k|v, shift|scale) is handed to a graph as separate weights without a copy.
     */
    public WeightRef rows(long from, long to) {
        if (shape.length == 0 || from < 0 || to < from || to > shape[0]) {
            throw new IllegalArgumentException("rows " + from + ".." + to + " of " + Arrays.toString(shape));
        }
        long rowBytes = shape[0] == 0 ? 0 : length / shape[0];
        long[] s = shape.clone();
        s[0] = to - from;
        return new WeightRef(file, offset + from * rowBytes, (to - from) * rowBytes, dtype, s);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightRef w && file.equals(w.file) && offset == w.offset && length == w.length
                && dtype == w.dtype && Arrays.equals(shape, w.shape);
    }

    @Override
    public int hashCode() {
        return file.hashCode() * 31 + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return file.getFileName() + "@" + offset + "+" + length + " " + dtype + Arrays.toString(shape);
    }
}
