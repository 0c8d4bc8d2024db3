package dev.sd3studio.engine.format;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every float8 code against the OCP 8-bit floating point specification's formula, evaluated here in double
 * precision independently of the decoder's bit construction: normal (−1)^s × 2^(e−bias) × (1 + m/2^M),
 * subnormal (−1)^s × 2^(1−bias) × m/2^M, and each format's special codes.
 */
class ElementDecoderTest {

    /** The OCP table's value for {@code code} in a format with {@code e} exponent and {@code m} mantissa bits. */
    private static float ocp(int code, int e, int m, int bias, boolean ieeeSpecials) {
        int sign = code >> (e + m);
        int exponent = (code >> m) & ((1 << e) - 1);
        int mantissa = code & ((1 << m) - 1);
        int maxExponent = (1 << e) - 1;
        double s = sign == 1 ? -1 : 1;
        if (ieeeSpecials && exponent == maxExponent) {
            return mantissa == 0 ? (float) (s * Double.POSITIVE_INFINITY) : Float.NaN;
        }
        if (!ieeeSpecials && exponent == maxExponent && mantissa == (1 << m) - 1) {
            return Float.NaN; // E4M3FN: only S.1111.111 is special
        }
        double fraction = mantissa / Math.pow(2, m);
        double value = exponent == 0
                ? Math.pow(2, 1 - bias) * fraction
                : Math.pow(2, exponent - bias) * (1 + fraction);
        return (float) (s * value);
    }

    @Test
    void everyE4m3CodeMatchesTheOcpFormula() {
        for (int code = 0; code < 256; code++) {
            float expected = ocp(code, 4, 3, 7, false);
            float actual = ElementDecoder.f8e4m3((byte) code);
            assertEquals(0, Float.compare(expected, actual),
                    String.format("E4M3 code 0x%02X: expected %s, decoded %s", code, expected, actual));
        }
    }

    @Test
    void everyE5m2CodeMatchesTheOcpFormula() {
        for (int code = 0; code < 256; code++) {
            float expected = ocp(code, 5, 2, 15, true);
            float actual = ElementDecoder.f8e5m2((byte) code);
            assertEquals(0, Float.compare(expected, actual),
                    String.format("E5M2 code 0x%02X: expected %s, decoded %s", code, expected, actual));
        }
    }

    @Test
    void e4m3SpotValuesFromTheFixturesNotes() {
        assertEquals(1.0f, ElementDecoder.f8e4m3((byte) 0x38));
        assertEquals(448f, ElementDecoder.f8e4m3((byte) 0x7E));
        assertEquals(-448f, ElementDecoder.f8e4m3((byte) 0xFE));
        assertEquals(0x1p-9f, ElementDecoder.f8e4m3((byte) 0x01));
        assertEquals(0x1.cp-7f, ElementDecoder.f8e4m3((byte) 0x07), "largest subnormal, 7 × 2^-9");
        assertEquals(0x1p-6f, ElementDecoder.f8e4m3((byte) 0x08), "smallest normal");
        assertTrue(Float.isNaN(ElementDecoder.f8e4m3((byte) 0x7F)));
        assertTrue(Float.isNaN(ElementDecoder.f8e4m3((byte) 0xFF)));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(ElementDecoder.f8e4m3((byte) 0x80)));
        assertEquals(240f, ElementDecoder.f8e4m3((byte) 0x77), "exponent 14 is a normal number, not infinity");
        assertEquals(256f, ElementDecoder.f8e4m3((byte) 0x78), "exponent 15 is a normal number, not infinity");
    }

    @Test
    void e5m2SpotValues() {
        assertEquals(1.0f, ElementDecoder.f8e5m2((byte) 0x3C));
        assertEquals(57344f, ElementDecoder.f8e5m2((byte) 0x7B));
        assertEquals(0x1p-16f, ElementDecoder.f8e5m2((byte) 0x01));
        assertEquals(Float.POSITIVE_INFINITY, ElementDecoder.f8e5m2((byte) 0x7C));
        assertEquals(Float.NEGATIVE_INFINITY, ElementDecoder.f8e5m2((byte) 0xFC));
        assertTrue(Float.isNaN(ElementDecoder.f8e5m2((byte) 0x7D)));
    }

    @Test
    void bulkDecodingReadsLittleEndianOfEachType() {
        ByteBuffer f16 = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN)
                .putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x7BFF).flip();
        float[] out = new float[3];
        ElementDecoder.decode(SafetensorsDType.F16, f16.order(ByteOrder.BIG_ENDIAN), out);
        assertArrayEquals(new float[] {1f, -2f, 65504f}, out);
        assertEquals(6, f16.position());

        ByteBuffer bf16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                .putShort((short) 0x3F80).putShort((short) 0xC0A0).flip();
        out = new float[2];
        ElementDecoder.decode(SafetensorsDType.BF16, bf16, out);
        assertArrayEquals(new float[] {1f, -5f}, out);

        ByteBuffer f32 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.25f).putFloat(-3.5f).flip();
        out = new float[2];
        ElementDecoder.decode(SafetensorsDType.F32, f32.order(ByteOrder.BIG_ENDIAN), out);
        assertArrayEquals(new float[] {0.25f, -3.5f}, out);

        ByteBuffer f8 = ByteBuffer.wrap(new byte[] {0x38, (byte) 0xB8, 0x7E});
        out = new float[3];
        ElementDecoder.decode(SafetensorsDType.F8_E4M3, f8, out);
        assertArrayEquals(new float[] {1f, -1f, 448f}, out);
    }
}
