package dev.sd3studio.engine.api;

import dev.sd3studio.engine.api.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class NpyTest {
    @Test
    void floatsAndLongsRoundTrip(@TempDir Path tmp) throws IOException {
        FloatTensor t = new FloatTensor(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, Float.NaN});
        Npy.writeFloat(tmp.resolve("f.npy"), t);
        FloatTensor back = Npy.readFloat(tmp.resolve("f.npy"));
        assertArrayEquals(t.shape(), back.shape());
        assertArrayEquals(t.data(), back.data());
        Npy.writeLong(tmp.resolve("l.npy"), new long[] {3}, new long[] {49406, 0, -1});
        assertArrayEquals(new long[] {49406, 0, -1}, Npy.read(tmp.resolve("l.npy")).toLongs());
    }

    @Test
    void truncatedOrForeignFilesAreRefused(@TempDir Path tmp) throws IOException {
        Npy.writeFloat(tmp.resolve("f.npy"), FloatTensor.zeros(4, 4));
        byte[] bytes = Files.readAllBytes(tmp.resolve("f.npy"));
        Files.write(tmp.resolve("cut.npy"), java.util.Arrays.copyOf(bytes, bytes.length - 8));
        assertThrows(IOException.class, () -> Npy.read(tmp.resolve("cut.npy")));
        Files.writeString(tmp.resolve("text.npy"), "hello");
        assertThrows(IOException.class, () -> Npy.read(tmp.resolve("text.npy")));
    }
}
