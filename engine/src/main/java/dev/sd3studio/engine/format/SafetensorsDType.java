package dev.sd3studio.engine.format;

import dev.sd3studio.engine.onnx.TensorProto.DataType;

import java.util.Optional;

/**
 * The element types a safetensors header names, with their size and the ONNX type that holds the same
 * bytes. The float types are the ones SD3 checkpoints store weights in; the integer types appear beside
 * them (CLIP's {@code position_ids}, for instance) and are listed so their sizes are checked too.
 */
public enum SafetensorsDType {
    F64(8, DataType.DOUBLE),
    F32(4, DataType.FLOAT),
    F16(2, DataType.FLOAT16),
    BF16(2, DataType.BFLOAT16),
    /** OCP FP8 E4M3FN: the {@code t5xxl_fp8_e4m3fn} files. */
    F8_E4M3(1, DataType.FLOAT8E4M3FN),
    F8_E5M2(1, DataType.FLOAT8E5M2),
    I64(8, DataType.INT64),
    I32(4, DataType.INT32),
    I16(2, DataType.INT16),
    I8(1, DataType.INT8),
    U8(1, DataType.UINT8),
    BOOL(1, DataType.BOOL);

    private final int bytes;
    private final DataType onnxType;

    SafetensorsDType(int bytes, DataType onnxType) {
        this.bytes = bytes;
        this.onnxType = onnxType;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The ONNX element type whose little-endian encoding is the same as this one's. */
    public DataType onnxType() {
        return onnxType;
    }

    /** Whether weights of this type can feed the float32 graphs (after a widening Cast where needed). */
    public boolean isFloat() {
        return switch (this) {
            case F64, F32, F16, BF16, F8_E4M3, F8_E5M2 -> true;
            default -> false;
        };
    }

    /** The type a header names, or empty for a name this enum does not know. */
    public static Optional<SafetensorsDType> named(String name) {
        for (SafetensorsDType t : values()) {
            if (t.name().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
