package dev.sd3studio.app.cli;

import dev.sd3studio.engine.api.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The files one run writes: checked before any work (a folder, device, pipe or link is never
 * replaced), then written all or none: every file is staged first, and only when all are on disk
 * are they moved into place, so a full disk in the middle of a batch leaves no picture behind.
 */
final class OutputTargets {
    private static final int MAX_NAME_BYTES = 255;
    private final Map<Path, byte[]> files = new LinkedHashMap<>();

    /** Refuses a destination that is not a new or regular file in a writable folder. */
    static void check(Path p, String flag) throws CliException {
        String s = p.toString();
        if (s.isBlank()) {
            throw usage(flag + " is empty; name the file to write, e.g. " + flag + " out.png.");
        }
        Path name = p.getFileName();
        if (name == null || s.endsWith("/") || s.endsWith(java.io.File.separator)) {
            throw usage(flag + " " + s + " names a folder; name a file in it, e.g. " + flag + " "
                    + p.resolve("image.png") + ".");
        }
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isSymbolicLink(p)) {
                throw usage(flag + " " + p + " is a symbolic link; SD3 Studio replaces only regular files, so name"
                        + " the file itself or a new one.");
            }
            if (Files.isDirectory(p)) {
                throw usage(flag + " " + p + " is a folder; name a file in it, e.g. " + flag + " "
                        + p.resolve("image.png") + ".");
            }
            if (!Files.isRegularFile(p)) {
                throw usage(flag + " " + p + " is a device, pipe or other special file, not a regular file;"
                        + " choose another path.");
            }
        }
        if (name.toString().getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw usage(flag + " file name is longer than " + MAX_NAME_BYTES + " bytes; choose a shorter name.");
        }
        Path parent = p.toAbsolutePath().getParent();
        if (!Files.isDirectory(parent)) {
            throw usage("output folder " + parent + " does not exist; create it or choose another path.");
        }
        if (!Files.isWritable(parent)) {
            throw usage("output folder " + parent + " is not writable; choose another path.");
        }
    }

    void add(Path target, byte[] bytes) {
        files.put(target, bytes);
    }

    /** Stages every file, then moves each into place; on any failure none of them is left. */
    void writeAll() throws IOException {
        Map<Path, Path> staged = new LinkedHashMap<>();
        List<Path> placed = new ArrayList<>();
        try {
            for (Map.Entry<Path, byte[]> f : files.entrySet()) {
                staged.put(f.getKey(), AtomicFiles.stage(f.getKey(), f.getValue()));
            }
            for (Map.Entry<Path, Path> s : staged.entrySet()) {
                AtomicFiles.move(s.getValue(), s.getKey());
                placed.add(s.getKey());
            }
        } catch (IOException | RuntimeException e) {
            staged.values().forEach(AtomicFiles::discard);
            for (Path p : placed) {
                Files.deleteIfExists(p);
            }
            throw e;
        }
    }

    private static CliException usage(String message) {
        return new CliException(message, Cli.EXIT_USAGE);
    }
}
