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
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What the process owes the user around ONNX Runtime's native library: telemetry off before the
 * library starts (ORT 1.29 on Linux otherwise writes an event database and a device id under
 * {@code ~/.cache} and looks up Microsoft's collector; its start-up also recursed itself to a
 * SIGSEGV on long command lines), and no {@code onnxruntime-java*} folder left in the temp
 * directory. ORT makes that folder at every start, even when {@code onnxruntime.native.path} names
 * the libraries (the launcher and the installers): then it stays empty and is removed as soon as
 * ORT has loaded, so a killed process leaves nothing. When ORT extracted its libraries into it
 * (25–31 MB, 583 MB more with the CUDA provider) it is removed at exit, and the folders of killed
 * processes are swept at the next start.
 */
final class OrtProcess {
    static final String TEMP_PREFIX = "onnxruntime-java";
    /** ORT names it with {@code Files.createTempDirectory(TEMP_PREFIX)}: the prefix and a random unsigned number. */
    private static final Pattern TEMP_NAME = Pattern.compile(Pattern.quote(TEMP_PREFIX) + "[0-9]+");
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
            NativeHeap.configure();
        }
    }

    /**
     * After the environment exists: telemetry off through the API as well; ORT's temp folder removed
     * now when ORT loaded its libraries from elsewhere and left it empty, else at exit.
     */
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
        if (ortTempFolder().filter(OrtProcess::deleteIfEmpty).isPresent()) {
            return;
        }
        if (isLinux()) {
            ownTempFolder(tempDir()).ifPresent(folder -> Runtime.getRuntime()
                    .addShutdownHook(new Thread(() -> AtomicFiles.deleteTreeQuietly(folder), "sd3-ort-temp-cleanup")));
        }
    }

    /**
     * The folder ORT made for this process ({@code OnnxRuntime.tempDirectory}, private in ORT 1.29;
     * read by reflection because ORT names it with a random number that nothing else tells us).
     * Empty if a later ORT renames the field: then the folder goes at exit or at the next sweep.
     */
    static Optional<Path> ortTempFolder() {
        try {
            Field field = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("tempDirectory");
            field.setAccessible(true);
            return Optional.ofNullable((Path) field.get(null)).filter(OrtProcess::looksLikeOrts);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Removes {@code folder} if it holds nothing: ORT extracts a library into it only when it is not
     * in {@code onnxruntime.native.path}, and one extracted there later would not be found anyway
     * (ORT looks for its providers beside {@code libonnxruntime}).
     */
    static boolean deleteIfEmpty(Path folder) {
        try {
            Files.delete(folder);
            return true;
        } catch (IOException e) {
            return false; // not empty (ORT extracted into it), or gone already
        }
    }

    /** The {@code onnxruntime-java*} folder this process loaded its library from, if it loaded from one. */
    static Optional<Path> ownTempFolder(Path tempDir) {
        Set<Path> mapped = mappedTempFolders(Path.of("/proc/self/maps"), tempDir);
        return mapped.stream().findFirst();
    }

    /**
     * Removes the {@code onnxruntime-java*} folders of processes that are gone: leftovers of killed
     * processes (25–31 MB each, with the CUDA provider 600 MB). The folder's name holds a random
     * number, not a pid, so a process is known to be gone from its folder by {@code /proc}: a live
     * process keeps the libraries it loaded from there mapped until it exits. Only real folders
     * (never links) named exactly as ORT names them, owned by this user, unmapped by every process
     * and older than a few minutes (the moment between a starting process making its folder and
     * mapping its library) go.
     */
    static int sweepStaleTempFolders(Path tempDir) {
        Instant cutoff = Instant.now().minus(STALE_AFTER);
        Set<Path> candidates = new HashSet<>();
        Path base = realPath(tempDir);
        try (Stream<Path> list = Files.list(base)) {
            list.filter(OrtProcess::looksLikeOrts)
                    .filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                    .filter(p -> olderThan(p, cutoff) && ownedByUs(p))
                    .forEach(candidates::add);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        if (candidates.isEmpty()) {
            return 0;
        }
        Optional<Set<Path>> inUse = foldersInUse(base);
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
        Path base = realPath(tempDir);
        try (Stream<String> lines = Files.lines(maps)) {
            lines.forEach(line -> {
                int slash = line.indexOf('/');
                if (slash < 0 || !line.contains(TEMP_PREFIX)) {
                    return;
                }
                String file = line.substring(slash).replace(" (deleted)", "");
                Path folder = Path.of(file).getParent();
                if (folder != null && base.equals(folder.getParent()) && looksLikeOrts(folder)) {
                    out.add(folder);
                }
            });
        } catch (IOException | RuntimeException e) {
            // a process that ended meanwhile, or one we may not inspect
        }
        return out;
    }

    /** /proc's maps name the files that a link to the temp folder (TMPDIR=/tmp-link) points at. */
    private static Path realPath(Path dir) {
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            return dir.toAbsolutePath().normalize();
        }
    }

    private static boolean looksLikeOrts(Path folder) {
        Path name = folder.getFileName();
        return name != null && TEMP_NAME.matcher(name.toString()).matches();
    }

    private static boolean olderThan(Path p, Instant cutoff) {
        try {
            FileTime t = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
            return t.toInstant().isBefore(cutoff);
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean ownedByUs(Path p) {
        try {
            return Files.getOwner(p, LinkOption.NOFOLLOW_LINKS).getName()
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
