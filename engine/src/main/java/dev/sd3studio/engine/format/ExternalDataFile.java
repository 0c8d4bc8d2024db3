package dev.sd3studio.engine.format;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a model file may keep its weights outside itself: the rule ONNX Runtime applies when it reads
 * external data, applied wherever this engine reads such data on its own (the LoRA merge reads the
 * weights it changes, and ORT does not check the location of a weight handed to it at session creation).
 * A model could otherwise name any file the user can read and copy it into a picture.
 * <p>
 * The rule: the location is relative; it resolves inside the model file's folder even after every
 * symlink is followed ({@link FileContainment}, the rule every weight reference follows); it is a regular
 * file; and the byte range lies inside it.
 */
public final class ExternalDataFile {
    private ExternalDataFile() {
    }

    /**
     * The real path of the file that {@code modelFile} names as {@code location}, checked against the rule.
     *
     * @param length the bytes read from {@code offset} on, or -1 when the model does not say
     */
    public static Path resolve(Path modelFile, String location, long offset, long length) throws EngineException {
        return resolveIn(modelFile.toAbsolutePath().getParent(), modelFile, location, offset, length);
    }

    /**
     * The same for a graph that is no file (one built in memory): {@code location} is relative to {@code folder},
     * and messages name {@code modelFile}, what the user chose.
     */
    public static Path resolveIn(Path folder, Path modelFile, String location, long offset, long length)
            throws EngineException {
        Path named;
        try {
            named = Path.of(location);
        } catch (InvalidPathException e) {
            throw outside(modelFile, location);
        }
        // getRoot also catches what is not absolute but not relative either, as Windows' "\x" and "C:x".
        if (location.isEmpty() || named.isAbsolute() || named.getRoot() != null) {
            throw outside(modelFile, location);
        }
        Path real;
        FileContainment insideTheFolder;
        try {
            insideTheFolder = FileContainment.of(List.of(folder));
            real = folder.resolve(named).toRealPath();
        } catch (NoSuchFileException e) {
            throw new EngineException(Kind.CORRUPT_FILE, modelFile + " keeps weights in \"" + location
                    + "\", which is missing; download this component again.", e);
        } catch (IOException e) {
            throw new EngineException(Kind.IO, "cannot read \"" + location + "\", the weights of " + modelFile
                    + ": " + e.getMessage(), e);
        }
        if (!insideTheFolder.allows(real)) {
            throw outside(modelFile, location);
        }
        if (!Files.isRegularFile(real)) {
            throw new EngineException(Kind.CORRUPT_FILE, modelFile + " keeps weights in \"" + location
                    + "\", which is not a file; download this component again.");
        }
        long size;
        try {
            size = Files.size(real);
        } catch (IOException e) {
            throw new EngineException(Kind.IO, "cannot read \"" + location + "\", the weights of " + modelFile
                    + ": " + e.getMessage(), e);
        }
        if (!FileContainment.rangeInside(size, offset, Math.max(length, 0))) {
            throw new EngineException(Kind.CORRUPT_FILE, modelFile + " names bytes " + offset + "+" + length
                    + " of \"" + location + "\", which has " + size + "; the download is incomplete or corrupt."
                    + " Download this component again.");
        }
        return real;
    }

    private static EngineException outside(Path modelFile, String location) {
        return new EngineException(Kind.INCOMPATIBLE_MODEL, modelFile + " names data outside its folder (\""
                + location + "\"); refused, since a model may only read its own files. Use a model whose"
                + " weights all lie in its folder.");
    }
}
