package dev.sd3studio.engine.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes a file completely or not at all: a temporary sibling, then a rename over the target.
 * Temporary files are named {@code .<name>.<pid>-<n>.part}: the process that owns one deletes it
 * on exit (a shutdown hook covers SIGTERM and Ctrl+C), and {@link #removeStaleParts} deletes
 * those of processes that were killed.
 */
public final class AtomicFiles {
    /** Leaves room for the suffix within the 255-byte name limit of common file systems. */
    private static final int MAX_NAME_PART = 120;
    private static final Pattern PART = Pattern.compile("^\\..*\\.(\\d+)-[0-9a-f]+\\.part$");
    private static final Pattern OLD_PART = Pattern.compile("^\\..*\\.[0-9a-f]+\\.part$");
    private static final Duration OLD_PART_AGE = Duration.ofHours(1);
    private static final long PID = ProcessHandle.current().pid();
    private static final Set<Path> IN_FLIGHT = ConcurrentHashMap.newKeySet();
    private static final java.util.concurrent.atomic.AtomicLong SEQ = new java.util.concurrent.atomic.AtomicLong();
    private static volatile boolean hooked;

    private AtomicFiles() {
    }

    public static void write(Path target, byte[] bytes) throws IOException {
        Path tmp = stage(target, bytes);
        try {
            move(tmp, target);
        } finally {
            discard(tmp);
        }
    }

    /**
     * Writes {@code bytes} under {@code target}'s name only if no such file exists, and says whether
     * it did: two processes writing the same new name never replace each other's file.
     */
    public static boolean writeNew(Path target, byte[] bytes) throws IOException {
        Path tmp = stage(target, bytes);
        try {
            try {
                Files.createLink(target, tmp);
            } catch (FileAlreadyExistsException e) {
                return false;
            } catch (UnsupportedOperationException | IOException e) {
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    return false;
                }
                // no hard links here (FAT, some network shares): a plain move, which refuses an existing target
                Files.move(tmp, target);
            }
            return true;
        } finally {
            discard(tmp);
        }
    }

    /** Writes {@code bytes} to a temporary sibling of {@code target} and returns it; the caller moves or discards it. */
    public static Path stage(Path target, byte[] bytes) throws IOException {
        Path tmp = tempFor(target);
        track(tmp);
        try {
            // Not createTempFile: its owner-only permissions would stick to the finished file.
            Files.write(tmp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            return tmp;
        } catch (IOException | RuntimeException e) {
            discard(tmp);
            throw e;
        }
    }

    /** Deletes a staged file that was not (or could not be) moved into place. */
    public static void discard(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            // the next start's sweep removes it
        }
        IN_FLIGHT.remove(tmp);
    }

    public static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        IN_FLIGHT.remove(tmp);
    }

    /**
     * Deletes the temporary files in {@code dir} left by processes that no longer run (killed
     * during a write); those of running processes, this one's included, are kept.
     *
     * @return how many were deleted
     */
    public static int removeStaleParts(Path dir) {
        int removed = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(AtomicFiles::isStalePart).toList()) {
                if (Files.deleteIfExists(f)) {
                    removed++;
                }
            }
        } catch (IOException | RuntimeException e) {
            // a folder we cannot list has nothing we could remove either
        }
        return removed;
    }

    /**
     * Deletes {@code root} and everything under it as far as it can (staging and temporary folders):
     * what cannot be deleted stays, and callers are written so that a leftover is never mistaken for
     * a finished result. Links are removed, never followed.
     */
    public static void deleteTreeQuietly(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // the rest is still worth deleting
                }
            }
        } catch (IOException | RuntimeException e) {
            // a folder we cannot walk has nothing we could delete either
        }
    }

    static boolean isStalePart(Path f) {
        String name = f.getFileName().toString();
        Matcher m = PART.matcher(name);
        if (m.matches()) {
            long pid = Long.parseLong(m.group(1));
            if (pid == PID) {
                return !IN_FLIGHT.contains(f);
            }
            return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
        }
        // written by an older version, which had no process id in the name
        return OLD_PART.matcher(name).matches() && olderThan(f, OLD_PART_AGE);
    }

    private static Path tempFor(Path target) {
        Path dir = target.toAbsolutePath().getParent();
        String name = target.getFileName().toString();
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > MAX_NAME_PART) {
            name = new String(utf8, 0, MAX_NAME_PART, StandardCharsets.UTF_8).replace("\uFFFD", "");
        }
        return dir.resolve("." + name + "." + PID + "-" + Long.toHexString(SEQ.incrementAndGet()) + ".part");
    }

    private static void track(Path tmp) {
        IN_FLIGHT.add(tmp);
        if (!hooked) {
            synchronized (AtomicFiles.class) {
                if (!hooked) {
                    hooked = true;
                    Runtime.getRuntime().addShutdownHook(new Thread(AtomicFiles::discardAll, "sd3-part-cleanup"));
                }
            }
        }
    }

    private static void discardAll() {
        IN_FLIGHT.forEach(AtomicFiles::discard);
    }

    private static boolean olderThan(Path f, Duration age) {
        try {
            return Files.getLastModifiedTime(f).toInstant().isBefore(Instant.now().minus(age));
        } catch (IOException e) {
            return false;
        }
    }
}
