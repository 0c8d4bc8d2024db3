package dev.sd3studio.engine.format;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one rule for which files the engine reads weights from, whoever names them (an ONNX graph's external
 * data, a checkpoint and its text encoders, a graph the engine builds over them): a file the user chose, or
 * one inside a folder the user chose, after following every symlink, so a link inside a model folder cannot
 * lead out of it; and for each reference, a byte range inside the file. {@link ExternalDataFile} applies it
 * to a location an ONNX file names.
 */
public final class FileContainment {
    private final List<Path> allowedFiles = new ArrayList<>();
    private final List<Path> allowedFolders = new ArrayList<>();

    private FileContainment() {
    }

    /** A rule allowing each of {@code roots}: a regular file allows itself, a folder everything under it. */
    public static FileContainment of(List<Path> roots) throws EngineException {
        FileContainment rule = new FileContainment();
        for (Path root : roots) {
            Path real = realPath(root);
            if (Files.isDirectory(real)) {
                rule.allowedFolders.add(real);
            } else {
                rule.allowedFiles.add(real);
            }
        }
        return rule;
    }

    /** The real path of {@code file}, which must be one of the allowed files or lie inside an allowed folder. */
    public Path requireInside(Path file) throws EngineException {
        Path real = realPath(file);
        if (!Files.isRegularFile(real)) {
            throw new EngineException(Kind.MODEL_NOT_FOUND, file + " is not a regular file.");
        }
        if (allows(real)) {
            return real;
        }
        throw new EngineException(Kind.CORRUPT_FILE, file + " resolves to " + real
                + ", outside the model you chose; SD3 Studio only reads files inside the model's folder."
                + " Copy the file there instead of linking to it.");
    }

    /** Whether a real path (symlinks already followed) is an allowed file or lies strictly inside an allowed folder. */
    boolean allows(Path real) {
        return allowedFiles.contains(real)
                || allowedFolders.stream().anyMatch(f -> real.startsWith(f) && !real.equals(f));
    }

    /** Whether {@code length} bytes at {@code offset} lie inside a file of {@code fileSize} bytes (overflow-safe). */
    static boolean rangeInside(long fileSize, long offset, long length) {
        return offset >= 0 && length >= 0 && offset <= fileSize && length <= fileSize - offset;
    }

    /** A reference of {@code length} bytes at {@code offset} must lie inside a file of {@code fileSize} bytes. */
    public static void requireRange(Path file, long fileSize, long offset, long length) throws EngineException {
        if (!rangeInside(fileSize, offset, length)) {
            throw new EngineException(Kind.CORRUPT_FILE, "a weight reference to bytes " + offset + " to "
                    + (offset + length) + " of " + file + " lies outside the file (" + fileSize
                    + " bytes); the file is truncated or was replaced. Download it again.");
        }
    }

    private static Path realPath(Path p) throws EngineException {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            throw new EngineException(Kind.MODEL_NOT_FOUND, p + " does not exist or cannot be read ("
                    + e.getClass().getSimpleName() + "). Check the path.", e);
        }
    }
}
