package dev.sd3studio.engine.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Leftover ORT extraction folders of killed processes are swept; folders still in use are not. */
class OrtProcessTest {
    @Test
    void staleFoldersGoFoldersInUseOrFreshStay(@TempDir Path tmp) throws Exception {
        Path stale = folder(tmp, "onnxruntime-java111", Duration.ofHours(1));
        Path fresh = folder(tmp, "onnxruntime-java222", Duration.ZERO);
        Path inUse = folder(tmp, "onnxruntime-java333", Duration.ofHours(1));
        Path foreign = folder(tmp, "someone-else", Duration.ofHours(1));
        // a mapping, as a loaded libonnxruntime.so is, shows in /proc/<pid>/maps
        try (FileChannel ch = FileChannel.open(inUse.resolve("libonnxruntime.so"), StandardOpenOption.READ)) {
            MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, 4);
            setOld(inUse, Duration.ofHours(1));
            assertEquals(1, OrtProcess.sweepStaleTempFolders(tmp));
            assertEquals(1, mapped.get(0));
        }
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(fresh.resolve("libonnxruntime.so")));
        assertTrue(Files.exists(inUse.resolve("libonnxruntime.so")));
        assertTrue(Files.exists(foreign.resolve("libonnxruntime.so")));
    }

    @Test
    void theProcessFindsTheFolderItLoadedOrtFrom() {
        // the test JVM loads ORT from its jar, which extracts the library into an onnxruntime-java* folder
        // (only the installed app and a GPU pack set onnxruntime.native.path; nothing in the tests does)
        assertNull(System.getProperty("onnxruntime.native.path"), "the test JVM loads ONNX Runtime from its jar");
        OrtRuntime.environment();
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        assertTrue(OrtProcess.ownTempFolder(tmp).orElseThrow().getFileName().toString().startsWith("onnxruntime-java"));
    }

    private static Path folder(Path tmp, String name, Duration age) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.write(dir.resolve("libonnxruntime.so"), new byte[] {1, 2, 3, 4});
        setOld(dir, age);
        return dir;
    }

    private static void setOld(Path dir, Duration age) throws Exception {
        Files.setLastModifiedTime(dir, FileTime.from(Instant.now().minus(age)));
    }
}
