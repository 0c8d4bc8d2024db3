package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.Npy;
import dev.sd3studio.engine.format.SafetensorsDType;
import dev.sd3studio.engine.format.TestSafetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsReaderTest {
    @TempDir
    Path tmp;

    private static final float[] VALUES = {0f, 1f, -2.5f, 0.125f, 3.75f, -0.0625f};

    @Test
    void readsFloat32Float16AndBfloat16() throws Exception {
        for (String dtype : new String[] {"F32", "F16", "BF16"}) {
            Path f = LoraTestFiles.write(tmp.resolve(dtype + ".safetensors"),
                    Map.of("w", new LoraTestFiles.T(new long[] {2, 3}, VALUES)), dtype);
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                assertEquals(SafetensorsDType.valueOf(dtype), r.tensors().get("w").dtype());
                assertArrayEquals(new long[] {2, 3}, r.tensors().get("w").shape());
                assertArrayEquals(VALUES, r.readFloats("w"), dtype);   // these values are exact in every type
                assertEquals("pt", r.metadata().get("format"));
            }
        }
    }

    @Test
    void fixtureLoraEqualsItsNpzCopy() throws Exception {
        Path dir = LoraTestFiles.caseDir("sd3_lora_rank4");
        Map<String, Npy.NpyArray> npz = Npy.readArchive(dir.resolve("lora.npz"));
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve("lora.safetensors"))) {
            assertEquals(npz.keySet(), r.tensors().keySet());
            for (String name : npz.keySet()) {
                assertArrayEquals(npz.get(name).toFloatTensor().data(), r.readFloats(name), name);
            }
        }
    }

    @Test
    void refusesBrokenFilesWithOneClearLine() throws Exception {
        byte[] header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}".getBytes(StandardCharsets.UTF_8);
        assertCorrupt(file("short", new byte[] {1, 2, 3}), "bytes long");
        assertCorrupt(file("huge-header", concat(length(1L << 40), header, new byte[8])), "header claims");
        assertCorrupt(file("not-json", concat(length(5), "hello".getBytes(), new byte[8])), "not valid JSON");
        assertCorrupt(file("truncated", concat(length(header.length), header, new byte[4])), "truncated");
        byte[] wrongSize = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}".getBytes(StandardCharsets.UTF_8);
        assertCorrupt(file("wrong-size", concat(length(wrongSize.length), wrongSize, new byte[8])), "needs 12");
        byte[] negative = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}".getBytes(StandardCharsets.UTF_8);
        assertCorrupt(file("negative", concat(length(negative.length), negative, new byte[8])), "reversed or negative");
    }

    @Test
    void namesAnUnsupportedTypeWhenRead() throws Exception {
        byte[] h = "{\"w\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[0,2]}}".getBytes(StandardCharsets.UTF_8);
        try (SafetensorsReader r = SafetensorsReader.open(file("int8", concat(length(h.length), h, new byte[2])))) {
            EngineException e = assertThrows(EngineException.class, () -> r.readFloats("w"));
            assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, e.kind());
            assertTrue(e.getMessage().contains("is I8, a type SD3 Studio cannot merge"), e.getMessage());
        }
    }

    /** The checkpoint reader's rules hold for LoRA files too, with the file named as a LoRA file. */
    @Test
    void refusesWhatTheCheckpointReaderRefuses() throws Exception {
        assertCorrupt(raw("overlap", "{\"a\":" + f32(2, 0, 8) + ",\"b\":" + f32(2, 4, 12) + "}", 12), "overlap");
        assertCorrupt(raw("twice", "{\"w\":" + f32(2, 0, 8) + ",\"w\":" + f32(2, 8, 16) + "}", 16), "Duplicate");
        assertCorrupt(raw("fraction", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.5]}}", 9),
                "data_offsets");
        assertCorrupt(raw("wide", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0,4294967296],\"data_offsets\":[0,0]}}", 0),
                "invalid shape");
        EngineException e = assertThrows(EngineException.class, () -> SafetensorsReader.open(tmp.resolve("missing")));
        assertEquals(EngineException.Kind.IO, e.kind());
        assertTrue(e.getMessage().startsWith("cannot read LoRA file "), e.getMessage());
    }

    /** float8 LoRAs are widened exactly, by the checkpoints' decoder: 0x38 is 1.0 in E4M3, 0x3C in E5M2. */
    @Test
    void readsFloat8() throws Exception {
        Path f = TestSafetensors.writeRaw(tmp.resolve("f8.safetensors"),
                "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]},"
                        + "\"b\":{\"dtype\":\"F8_E5M2\",\"shape\":[2],\"data_offsets\":[2,4]}}",
                new byte[] {0x38, (byte) 0xFE, 0x3C, 0x7C});
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertArrayEquals(new float[] {1f, -448f}, r.readFloats("a"));
            assertArrayEquals(new float[] {1f, Float.POSITIVE_INFINITY}, r.readFloats("b"));
        }
    }

    /** 600M float32s: under 2^31 elements, over 2^31 bytes. The data is a sparse hole, never written. */
    @Test
    void aTensorOverTwoGigabytesIsRefusedByName() throws Exception {
        long bytes = 600_000_000L * 4;
        byte[] h = ("{\"w\":{\"dtype\":\"F32\",\"shape\":[600000000],\"data_offsets\":[0," + bytes + "]}}")
                .getBytes(StandardCharsets.UTF_8);
        Path f = file("huge", concat(length(h.length), h));
        try (RandomAccessFile sparse = new RandomAccessFile(f.toFile(), "rw")) {
            sparse.setLength(8 + h.length + bytes);
        }
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            EngineException e = assertThrows(EngineException.class, () -> r.readFloats("w"));
            assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, e.kind());
            assertTrue(e.getMessage().contains("tensor 'w' in " + f + " is 2400000000 bytes"), e.getMessage());
        }
    }

    private void assertCorrupt(Path f, String expected) {
        EngineException e = assertThrows(EngineException.class, () -> SafetensorsReader.open(f).close());
        assertEquals(EngineException.Kind.CORRUPT_FILE, e.kind());
        assertTrue(e.getMessage().startsWith("LoRA file "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().contains(f.getFileName().toString()), e.getMessage());
    }

    private Path raw(String name, String header, int dataBytes) throws Exception {
        return TestSafetensors.writeRaw(tmp.resolve(name + ".safetensors"), header, new byte[dataBytes]);
    }

    private static String f32(int elements, long begin, long end) {
        return "{\"dtype\":\"F32\",\"shape\":[" + elements + "],\"data_offsets\":[" + begin + "," + end + "]}";
    }

    private Path file(String name, byte[] bytes) throws Exception {
        return Files.write(tmp.resolve(name + ".safetensors"), bytes);
    }

    private static byte[] length(long n) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array();
    }

    private static byte[] concat(byte[]... parts) {
        return LoraTestFiles.concat(parts);
    }
}
