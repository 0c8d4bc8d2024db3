package dev.sd3studio.engine.format;

import dev.sd3studio.engine.format.ProtoFields.Field;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The wire reader: offsets kept through nesting, and every length checked against its parent. */
class ProtoFieldsTest {
    /** message { 1: "ab", 2: { 3: 150 } }, 4 bytes of padding in front as a file header would be. */
    private static final byte[] NESTED = {0, 0, 0, 0, 0x0a, 2, 'a', 'b', 0x12, 3, 0x18, (byte) 0x96, 0x01};

    @Test
    void bodiesKeepTheirOffsetInTheOutermostBuffer() {
        List<Field> fields = ProtoFields.parse(ByteBuffer.wrap(NESTED).position(4), 4);
        assertEquals("ab", ProtoFields.firstString(fields, 1));
        assertEquals(6, fields.get(0).at());
        Field inner = ProtoFields.first(fields, 2);
        assertEquals(10, inner.at());
        assertEquals(150, ProtoFields.firstVarint(inner.fields(), 3, -1));
        assertArrayEquals(java.util.Arrays.copyOfRange(NESTED, 4, NESTED.length), ProtoFields.write(fields));
    }

    @Test
    void aLengthBeyondItsMessageFailsBeforeAnythingIsAllocated() {
        // 2: { 1: <length 0x7ffffff0> } inside a 7-byte parent: the inner field claims 2 GB
        byte[] lying = {0x12, 6, 0x0a, (byte) 0xf0, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
        List<Field> outer = ProtoFields.parse(lying);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> outer.get(0).fields());
        assertTrue(e.getMessage().contains("2147483632 bytes overruns its message"), e.getMessage());
        // a child that fits the buffer but not its parent: 2: { 1: <3 bytes> } where the parent holds 2,
        // followed by 3: "c"
        byte[] nested = {0x12, 2, 0x0a, 3, 0x1a, 1, 'c'};
        List<Field> parent = ProtoFields.parse(nested);
        assertThrows(IllegalArgumentException.class, () -> parent.get(0).fields());
    }

    @Test
    void truncatedOrMalformedInputIsRefused() {
        byte[][] bad = {
            {0x0a},                                  // tag without length
            {0x0a, 5, 'a'},                          // length past the end
            {0x08, (byte) 0x80},                     // varint cut short
            {0x09, 1, 2, 3},                         // fixed64 cut short
            {0x0b},                                  // wire type 3 (groups)
            {0x00, 0x01},                            // field number 0
            {(byte) 0xf8, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 0}, // field number above 2^29 - 1
            {0x08, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0}, // varint of 11 bytes
        };
        for (byte[] b : bad) {
            assertThrows(IllegalArgumentException.class, () -> ProtoFields.parse(b), java.util.Arrays.toString(b));
        }
    }

    @Test
    void packedVarintsAreCountedNotGuessedFromTheirLength() {
        assertArrayEquals(new long[] {3, 300, 0}, ProtoFields.packedVarints(ByteBuffer.wrap(new byte[] {3, (byte) 0xac, 0x02, 0})));
        assertThrows(IllegalArgumentException.class, () -> ProtoFields.packedVarints(ByteBuffer.wrap(new byte[] {3, (byte) 0xac})));
    }
}
