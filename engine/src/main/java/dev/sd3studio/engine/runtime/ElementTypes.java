package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OnnxJavaType;

import java.nio.ByteBuffer;

/** Writes float values as the element type an export declares (float32, float16, float64, or an integer type). */
final class ElementTypes {
    private ElementTypes() {
    }

    static int bytes(OnnxJavaType type) {
        return switch (type) {
            case FLOAT16, BFLOAT16 -> 2;
            case DOUBLE, INT64 -> 8;
            case INT32 -> 4;
            default -> 4;
        };
    }

    /** Writes {@code values} into {@code buffer} (native order) from element {@code at} on. */
    static void write(ByteBuffer buffer, OnnxJavaType type, float[] values, int at) {
        ByteBuffer b = buffer.duplicate().order(buffer.order()).position(at * bytes(type)).slice().order(buffer.order());
        switch (type) {
            case FLOAT -> b.asFloatBuffer().put(values);
            case FLOAT16 -> {
                var s = b.asShortBuffer();
                for (int i = 0; i < values.length; i++) {
                    s.put(i, Float.floatToFloat16(values[i]));
                }
            }
            case DOUBLE -> {
                var d = b.asDoubleBuffer();
                for (int i = 0; i < values.length; i++) {
                    d.put(i, values[i]);
                }
            }
            case INT64 -> {
                var l = b.asLongBuffer();
                for (int i = 0; i < values.length; i++) {
                    l.put(i, Math.round((double) values[i]));
                }
            }
            case INT32 -> {
                var n = b.asIntBuffer();
                for (int i = 0; i < values.length; i++) {
                    n.put(i, Math.round(values[i]));
                }
            }
            default -> throw new IllegalArgumentException("cannot feed float values as " + type);
        }
    }

    /** Whether float values (latents, embeddings, a timestep) can be fed as this type. */
    static boolean acceptsFloats(OnnxJavaType type) {
        return switch (type) {
            case FLOAT, FLOAT16, DOUBLE, INT64, INT32 -> true;
            default -> false;
        };
    }
}
