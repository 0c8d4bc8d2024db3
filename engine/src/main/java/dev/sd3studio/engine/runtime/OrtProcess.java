package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.sd3studio.engine.api.AtomicFiles;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What the process owes the user around ONNX Runtime's native library: telemetry off before the
 * library starts (ORT 1.29 on Linux otherwise writes an event database and a device id under
 * {@code ~/.cache} and looks up Microsoft's collector; its start-up also recursed itself to a
 * SIGSEGV on long command lines), and no {@code onnxruntime-java*} folder left in the temp
 * directory, neither by this process (removed at exit) nor by killed ones (swept at start).
 */
final class OrtProcess {
    static final String TEMP_PREFIX = "onnxruntime-java";
    /** A folder this young may belong to a process that has not mapped its library yet. */
    private static final Duration STALE_AFTER = Duration.ofMinutes(2);
    private static boolean prepared;
    private static boolean adopted;

    private OrtProcess() {
    }

    /** Before the first ORT class loads: telemetry off through the variable ORT reads, stale folders gone. */
    static synchronized void beforeLoad() {
        if (prepared) {
            return;
        }
        prepared = true;
        if (isLinux()) {
            setEnvironmentVariable("ORT_DISABLE_TELEMETRY", "1");
            sweepStaleTempFolders(tempDir());
        }
    }

    /** After the environment exists: telemetry off through the API as well, our folder removed at exit. */
    static synchronized void afterLoad(OrtEnvironment env) {
        if (adopted) {
            return;
        }
        adopted = true;
        try {
            env.setTelemetry(false);
        } catch (OrtException e) {
            // the variable set before loading already covers Linux
        }
        if (isLinux()) {
            ownTempFolder(tempDir()).ifPresent(folder -> Runtime.getRuntime()
                    .addShutdownHook(new Thread(() -> AtomicFiles.deleteTreeQuietly(folder), "sd3-ort-temp-cleanup")));
        }
    }

    /** The {@code onnxruntime-java*} folder this process loaded its library from, if it loaded from one. */
    static Optional<Path> ownTempFolder(Path tempDir) {
        Set<Path> mapped = mappedTempFolders(Path.of("/proc/self/maps"), tempDir);
        return mapped.stream().findFirst();
    }

    /**
     * Removes {@code onnxruntime-java*} folders that are older than a few minutes, belong to this
     * user and hold no library mapped by any running process: leftovers of killed processes
     * (25–31 MB each). Folders of live processes are kept.
     */
    static int sweepStaleTempFolders(Path tempDir) {
        Instant cutoff = Instant.now().minus(STALE_AFTER);
        Set<Path> candidates = new HashSet<>();
        try (Stream<Path> list = Files.list(tempDir)) {
            list.filter(p -> p.getFileName().toString().startsWith(TEMP_PREFIX))
                    .filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .filter(p -> olderThan(p, cutoff) && ownedByUs(p))
                    .forEach(p -> candidates.add(p.toAbsolutePath().normalize()));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        if (candidates.isEmpty()) {
            return 0;
        }
        Optional<Set<Path>> inUse = foldersInUse(tempDir);
        if (inUse.isEmpty()) {
            return 0;
        }
        candidates.removeAll(inUse.get());
        candidates.forEach(AtomicFiles::deleteTreeQuietly);
        return candidates.size();
    }

    /** Empty when the running processes cannot be listed: then nothing can be proven unused. */
    private static Optional<Set<Path>> foldersInUse(Path tempDir) {
        Set<Path> inUse = new HashSet<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .forEach(p -> inUse.addAll(mappedTempFolders(p.resolve("maps"), tempDir)));
            return Optional.of(inUse);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Folders directly under {@code tempDir} named {@code onnxruntime-java*} that a maps file refers to. */
    static Set<Path> mappedTempFolders(Path maps, Path tempDir) {
        Set<Path> out = new HashSet<>();
        Path base = tempDir.toAbsolutePath().normalize();
        try (Stream<String> lines = Files.lines(maps)) {
            lines.forEach(line -> {
                int slash = line.indexOf('/');
                if (slash < 0 || !line.contains(TEMP_PREFIX)) {
                    return;
                }
                String file = line.substring(slash).replace(" (deleted)", "");
                Path folder = Path.of(file).getParent();
                if (folder != null && base.equals(folder.getParent())
                        && folder.getFileName().toString().startsWith(TEMP_PREFIX)) {
                    out.add(folder);
                }
            });
        } catch (IOException | RuntimeException e) {
            // a process that ended meanwhile, or one we may not inspect
        }
        return out;
    }

    private static boolean olderThan(Path p, Instant cutoff) {
        try {
            FileTime t = Files.getLastModifiedTime(p, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return t.toInstant().isBefore(cutoff);
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean ownedByUs(Path p) {
        try {
            return Files.getOwner(p, java.nio.file.LinkOption.NOFOLLOW_LINKS).getName()
                    .equals(System.getProperty("user.name"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static Path tempDir() {
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    private static boolean isLinux() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
    }

    /** libc's setenv, so that native code started later in this process sees the variable. */
    private static void setEnvironmentVariable(String name, String value) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_INT));
            try (Arena arena = Arena.ofConfined()) {
                int rc = (int) setenv.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 1);
                if (rc != 0) {
                    throw new IllegalStateException("setenv returned " + rc);
                }
            }
        } catch (Throwable e) {
            throw new IllegalStateException("cannot turn off ONNX Runtime telemetry (" + e + ")", e);
        }
    }
}
