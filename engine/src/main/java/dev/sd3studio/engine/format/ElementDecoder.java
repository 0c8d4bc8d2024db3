package dev.sd3studio.engine.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Exact widening of stored weights to float32: every F16, BF16, F8_E4M3 and F8_E5M2 value is a float32
 * value, so nothing is rounded. The graphs do the same with a Cast; this is for code that reads a weight
 * itself (tests, LoRA merges, checks).
 * <p>
 * float8 follows the OCP 8-bit floating point specification (the types PyTorch calls
 * {@code float8_e4m3fn} and {@code float8_e5m2}):
 * <ul>
 *   <li>E4M3FN: sign, 4 exponent bits (bias 7), 3 mantissa bits; exponent 0 holds subnormals
 *       (m × 2⁻⁹); no infinities; {@code S.1111.111} is NaN, so the largest value is 448.</li>
 *   <li>E5M2: sign, 5 exponent bits (bias 15), 2 mantissa bits; subnormals m × 2⁻¹⁶; exponent 31 is
 *       infinity (mantissa 0) or NaN, as in IEEE half precision, whose upper byte it is.</li>
 * </ul>
 */
public final class ElementDecoder {
    private static final float[] E4M3 = new float[256];
    private static final float[] E5M2 = new float[256];

    static {
        for (int code = 0; code < 256; code++) {
            E4M3[code] = buildE4m3(code);
            // E5M2 is the upper byte of an IEEE binary16 value
            E5M2[code] = Float.float16ToFloat((short) (code << 8));
        }
    }

    private ElementDecoder() {
    }

    public static float f8e4m3(byte code) {
        return E4M3[code & 0xff];
    }

    public static float f8e5m2(byte code) {
        return E5M2[code & 0xff];
    }

    public static float f16(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static float bf16(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /**
     * Widens {@code out.length} elements of {@code type} read from {@code in} at its position (little-endian
     * whatever the buffer's order); the buffer's position moves past them.
     */
    public static void decode(SafetensorsDType type, ByteBuffer in, float[] out) {
        ByteBuffer b = in.slice().order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) b.getDouble(i * 8);
                }
            }
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = f16(b.getShort(i * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = bf16(b.getShort(i * 2));
                }
            }
            case F8_E4M3 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = f8e4m3(b.get(i));
                }
            }
            case F8_E5M2 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = f8e5m2(b.get(i));
                }
            }
            default -> throw new IllegalArgumentException(type + " is not a floating-point type");
        }
        in.position(in.position() + out.length * type.bytes());
    }

    /** float32 bits from the E4M3FN fields: the exponent is re-biased (7 → 127), the mantissa shifted up. */
    private static float buildE4m3(int code) {
        int sign = (code >>> 7) << 31;
        int exponent = (code >>> 3) & 0xf;
        int mantissa = code & 0x7;
        if (exponent == 0xf && mantissa == 0x7) {
            return Float.NaN;
        }
        if (exponent == 0) {
            float magnitude = Math.scalb((float) mantissa, -9); // 0.m × 2^(1 − 7)
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | (exponent - 7 + 127) << 23 | mantissa << 20);
    }
}
