package dev.sd3studio.engine.format;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.format.TestSafetensors.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The header reader trusts nothing in the file: each kind of damage is refused with a message naming it. */
class SafetensorsHeaderTest {
    @TempDir
    Path tmp;

    @Test
    void aWellFormedFileGivesAbsoluteRangesAndShapes() throws Exception {
        Path f = TestSafetensors.write(tmp.resolve("ok.safetensors"), List.of(
                Tensor.f32("a", new float[] {1, 2, 3, 4, 5, 6}, 2, 3),
                Tensor.zeros("b", "F8_E4M3", 1, 5)), 5);
        SafetensorsHeader h = SafetensorsHeader.read(f, "checkpoint");
        long dataStart = Files.size(f) - 24 - 5;
        StoredTensor a = h.tensors().get("a");
        assertEquals(dataStart, a.offset());
        assertEquals(24, a.length());
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertEquals(SafetensorsDType.F8_E4M3, h.tensors().get("b").dtype());
        assertEquals(dataStart + 24, h.tensors().get("b").offset());
        assertEquals("pt", h.metadata().get("format"));
    }

    @Test
    void anUnknownDtypeIsKeptByNameWithItsRangeChecked() throws Exception {
        Path f = TestSafetensors.write(tmp.resolve("u.safetensors"), List.of(Tensor.zeros("w", "F8_E8M0", 1, 4)));
        StoredTensor w = SafetensorsHeader.read(f, "checkpoint").tensors().get("w");
        assertNull(w.dtype());
        assertEquals("F8_E8M0", w.dtypeName());
    }

    @Test
    void aTruncatedFileIsNamedTruncated() throws Exception {
        Path f = TestSafetensors.write(tmp.resolve("t.safetensors"), List.of(Tensor.f32("a", new float[16], 16)));
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 10));
        assertMessage(f, "truncated");
        Files.write(f, Arrays.copyOf(all, 40)); // cut inside the header
        assertMessage(f, "truncated");
        Files.write(f, Arrays.copyOf(all, 5));
        assertMessage(f, "only 5 bytes");
    }

    @Test
    void aHeaderLongerThanTheFileIsRefused() throws Exception {
        Path f = tmp.resolve("h.safetensors");
        Files.write(f, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0, '{', '}'});
        assertMessage(f, "header claims");
    }

    @Test
    void offsetsOutsideTheFileAreRefused() throws Exception {
        Path f = TestSafetensors.writeRaw(tmp.resolve("o.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}}", new byte[16]);
        assertMessage(f, "'b' ends at byte");
        Path negative = TestSafetensors.writeRaw(tmp.resolve("n.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", new byte[16]);
        assertMessage(negative, "reversed or negative");
    }

    @Test
    void overlappingTensorsAreRefused() throws Exception {
        Path f = TestSafetensors.writeRaw(tmp.resolve("ov.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                        + "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[8,16]}}", new byte[16]);
        assertMessage(f, "'a' and 'b' overlap");
    }

    @Test
    void aSizeThatIsNotShapeTimesDtypeIsRefused() throws Exception {
        Path f = TestSafetensors.writeRaw(tmp.resolve("s.safetensors"),
                "{\"a\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[16]);
        assertMessage(f, "needs 8 bytes");
        Path huge = TestSafetensors.writeRaw(tmp.resolve("big.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,16]}}", new byte[16]);
        assertMessage(huge, "needs more");
    }

    @Test
    void malformedHeadersAreRefused() throws Exception {
        assertMessage(TestSafetensors.writeRaw(tmp.resolve("j.safetensors"), "{not json", new byte[0]), "not valid JSON");
        assertMessage(TestSafetensors.writeRaw(tmp.resolve("arr.safetensors"), "[1,2]", new byte[0]), "not a JSON object");
        assertMessage(TestSafetensors.writeRaw(tmp.resolve("dup.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]), "not valid JSON");
        assertMessage(TestSafetensors.writeRaw(tmp.resolve("shape.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[8]), "invalid shape");
        assertMessage(TestSafetensors.writeRaw(tmp.resolve("frac.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4]}}", new byte[8]), "data_offsets");
    }

    private static void assertMessage(Path f, String part) {
        EngineException e = assertThrows(EngineException.class, () -> SafetensorsHeader.read(f, "checkpoint"));
        assertEquals(EngineException.Kind.CORRUPT_FILE, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }
}
