package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.LoraSpec;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Finds a picture's recorded LoRAs again among the user's own LoRA folders: a file there with the
 * recorded name, confirmed by its SHA-256 (read only for files of that name, and remembered). The
 * folders are searched by listing them, so no path is ever made from what a picture says: a name
 * like {@code ../../x} or {@code \\host\share\x} simply matches no file. Old records without a hash
 * match by name alone, still only inside these folders.
 */
public final class LoraFinder {
    private final List<Path> folders;
    private final FileHashes hashes;

    /** @param folders where the user keeps LoRAs (each searched, not its subfolders) */
    public LoraFinder(Collection<Path> folders, FileHashes hashes) {
        this.folders = List.copyOf(folders);
        this.hashes = hashes;
    }

    /** A picture's recorded LoRAs as found among the folders, at their scales, and those that were not. */
    public record Found(List<LoraSpec> specs, List<RecordedLora> missing) {
    }

    /** Every LoRA of a picture's {@code loras} entry (null or blank: none), looked for in the folders. */
    public Found findAll(String recorded) {
        List<LoraSpec> specs = new ArrayList<>();
        List<RecordedLora> missing = new ArrayList<>();
        for (RecordedLora lora : RecordedLora.parseAll(recorded)) {
            find(lora).ifPresentOrElse(f -> specs.add(new LoraSpec(f, lora.scale())), () -> missing.add(lora));
        }
        return new Found(List.copyOf(specs), List.copyOf(missing));
    }

    /** The user's file that is this recorded LoRA; empty when none of the folders has it. */
    public Optional<Path> find(RecordedLora lora) {
        for (Path folder : folders) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder,
                    entry -> entry.getFileName().toString().equals(lora.name()))) {
                for (Path candidate : entries) {
                    if (Files.isRegularFile(candidate) && (lora.sha256() == null
                            || lora.matches(hashes.sha256(candidate)))) {
                        return Optional.of(candidate);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // a folder that is gone or unreadable has nothing to offer; the others are still searched
            }
        }
        return Optional.empty();
    }
}
