package dev.sd3studio.engine.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

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
    void theFolderOfAKilledProcessGoesTheFolderOfALiveOneStays(@TempDir Path tmp) throws Exception {
        Path ofLive = folder(tmp, "onnxruntime-java444", Duration.ZERO);
        Path ofKilled = folder(tmp, "onnxruntime-java555", Duration.ZERO);
        Process live = mapInChild(ofLive.resolve("libonnxruntime.so"));
        Process killed = mapInChild(ofKilled.resolve("libonnxruntime.so"));
        try {
            killed.destroyForcibly().waitFor();
            setOld(ofLive, Duration.ofHours(1));
            setOld(ofKilled, Duration.ofHours(1));
            assertEquals(1, OrtProcess.sweepStaleTempFolders(tmp));
            assertFalse(Files.exists(ofKilled), "the killed process's folder");
            assertTrue(Files.exists(ofLive.resolve("libonnxruntime.so")), "the live process's folder");

            live.destroyForcibly().waitFor();
            assertEquals(1, OrtProcess.sweepStaleTempFolders(tmp));
            assertFalse(Files.exists(ofLive), "its folder once that process was killed too");
        } finally {
            live.destroyForcibly();
            killed.destroyForcibly();
        }
    }

    @Test
    void onlyRealFoldersNamedAsOrtNamesThemGo(@TempDir Path tmp) throws Exception {
        Path orts = folder(tmp, "onnxruntime-java18446744073709551615", Duration.ofHours(1));
        Path notes = folder(tmp, "onnxruntime-java-notes", Duration.ofHours(1));
        Path fx = folder(tmp, "onnxruntime-javafx", Duration.ofHours(1));
        Path elsewhere = folder(Files.createDirectories(tmp.resolve("elsewhere")), "onnxruntime-java7", Duration.ofHours(1));
        Path link = Files.createSymbolicLink(tmp.resolve("onnxruntime-java8"), elsewhere);
        assertEquals(1, OrtProcess.sweepStaleTempFolders(tmp));
        assertFalse(Files.exists(orts));
        assertTrue(Files.exists(notes.resolve("libonnxruntime.so")));
        assertTrue(Files.exists(fx.resolve("libonnxruntime.so")));
        assertTrue(Files.isSymbolicLink(link));
        assertTrue(Files.exists(elsewhere.resolve("libonnxruntime.so")), "a link is never followed");
    }

    /** /proc/<pid>/maps names the real path; a temp folder reached through a link must still see it. */
    @Test
    void aFolderInUseStaysWhenTheTempFolderIsALink(@TempDir Path sandbox) throws Exception {
        Path real = Files.createDirectories(sandbox.resolve("real"));
        Path tmp = Files.createSymbolicLink(sandbox.resolve("tmp-link"), real);
        Path inUse = folder(real, "onnxruntime-java999", Duration.ofHours(1));
        try (FileChannel ch = FileChannel.open(inUse.resolve("libonnxruntime.so"), StandardOpenOption.READ)) {
            MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, 4);
            assertEquals(0, OrtProcess.sweepStaleTempFolders(tmp));
            assertEquals(1, mapped.get(0));
        }
        assertTrue(Files.exists(inUse.resolve("libonnxruntime.so")));
    }

    @Test
    void theProcessFindsTheFolderItLoadedOrtFrom() throws Exception {
        // the test JVM loads ORT from its jar, which extracts the library into an onnxruntime-java* folder
        // (only the installed app, ./sd3studio, the app's tests and a GPU pack set onnxruntime.native.path)
        assertNull(System.getProperty("onnxruntime.native.path"), "the test JVM loads ONNX Runtime from its jar");
        OrtRuntime.environment();
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Path own = OrtProcess.ownTempFolder(tmp).orElseThrow();
        assertTrue(own.getFileName().toString().startsWith("onnxruntime-java"));
        // the folder ORT names for itself is that one: what lets a process loading from a native path remove it at once
        assertEquals(own.toRealPath(), OrtProcess.ortTempFolder().orElseThrow().toRealPath());
        assertFalse(OrtProcess.deleteIfEmpty(own), "a folder ORT extracted into is left for the exit");
        assertTrue(Files.isDirectory(own));
    }

    @Test
    void anEmptyFolderIsRemovedAtOnce(@TempDir Path tmp) throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("onnxruntime-java1"));
        assertTrue(OrtProcess.deleteIfEmpty(empty));
        assertFalse(Files.exists(empty));
    }

    /** A JVM that maps {@code file} as a loaded library is mapped, says so and waits to be killed. */
    private static Process mapInChild(Path file) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), MapAndWait.class.getName(), file.toString())
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (!"mapped".equals(line)) {
            p.destroyForcibly();
            throw new AssertionError("the child did not map " + file + ": " + line);
        }
        return p;
    }

    static final class MapAndWait {
        public static void main(String[] args) throws Exception {
            try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ)) {
                MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, 4);
                System.out.println("mapped");
                System.out.flush();
                Thread.sleep(TimeUnit.MINUTES.toMillis(5));
                System.out.println(mapped.get(0));
            }
        }
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
