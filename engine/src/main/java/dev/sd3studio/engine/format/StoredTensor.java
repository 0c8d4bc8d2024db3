package dev.sd3studio.engine.format;

import java.util.Arrays;
import java.util.Optional;

/**
 * One tensor of a safetensors file as its header describes it, after the header was checked.
 *
 * @param dtypeName the type as the header spells it (kept so an unknown one can be named)
 * @param dtype     the type, or null when {@code dtypeName} is one SD3 Studio does not know
 * @param offset    absolute position of its first byte in the file
 * @param length    its size in bytes
 */
public record StoredTensor(String name, String dtypeName, SafetensorsDType dtype, long[] shape, long offset,
                           long length) {
    public StoredTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** The size of one axis; negative indices count from the end, as in numpy. */
    public long dim(int axis) {
        return shape[axis < 0 ? shape.length + axis : axis];
    }

    public Optional<SafetensorsDType> knownType() {
        return Optional.ofNullable(dtype);
    }

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoredTensor t && name.equals(t.name) && dtypeName.equals(t.dtypeName)
                && Arrays.equals(shape, t.shape) && offset == t.offset && length == t.length;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return name + " " + dtypeName + Arrays.toString(shape);
    }
}
