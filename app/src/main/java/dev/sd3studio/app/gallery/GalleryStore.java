package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The gallery is the output folder itself: one PNG per image, parameters in its text chunks, no
 * separate index that could disagree with the files. Writes are atomic (temp file + rename), so a
 * crash leaves either the whole picture or none. Deleted items wait in {@code .trash} so a delete
 * can be undone; the trash is emptied at the next start.
 */
public final class GalleryStore {
    private static final Logger LOG = Logger.getLogger(GalleryStore.class.getName());
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS");
    private final Path dir;
    private final AtomicInteger counter = new AtomicInteger();

    public GalleryStore(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** Every readable PNG, newest first; unreadable files are skipped and logged, never fatal. */
    public List<GalleryItem> load() throws IOException {
        Files.createDirectories(dir);
        emptyTrash();
        List<GalleryItem> items = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().toLowerCase().endsWith(".png")).toList()) {
                try {
                    items.add(new GalleryItem(f, parameters(f)));
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.WARNING, "skipping unreadable gallery file " + f, e);
                }
            }
        }
        items.sort(Comparator.comparing((GalleryItem i) -> i.file().getFileName().toString()).reversed());
        return items;
    }

    /** Our key=value chunk if present, else the widely used "parameters" text as the prompt. */
    public static Map<String, String> parameters(Path png) throws IOException {
        Map<String, String> text = PngFiles.readText(png);
        if (text.containsKey(PngMetadata.OURS)) {
            return PngMetadata.decode(text.get(PngMetadata.OURS));
        }
        if (text.containsKey(PngMetadata.PARAMETERS)) {
            return Map.of("prompt", text.get(PngMetadata.PARAMETERS).lines().findFirst().orElse(""));
        }
        return Map.of();
    }

    public GalleryItem add(RgbImage image, Map<String, String> parameters) throws IOException {
        Files.createDirectories(dir);
        String name = LocalDateTime.now().format(STAMP) + "-" + String.format("%03d", counter.incrementAndGet() % 1000)
                + ".png";
        Path file = dir.resolve(name);
        PngFiles.write(file, image, Map.of(PngMetadata.PARAMETERS, PngMetadata.parametersText(parameters),
                PngMetadata.OURS, PngMetadata.encode(parameters)));
        return new GalleryItem(file, parameters);
    }

    /** Moves the file to the trash; {@link #restore} brings it back. */
    public void delete(GalleryItem item) throws IOException {
        Path trash = dir.resolve(".trash");
        Files.createDirectories(trash);
        AtomicFiles.move(item.file(), trash.resolve(item.file().getFileName()));
    }

    public void restore(GalleryItem item) throws IOException {
        AtomicFiles.move(dir.resolve(".trash").resolve(item.file().getFileName()), item.file());
    }

    private void emptyTrash() {
        Path trash = dir.resolve(".trash");
        if (!Files.isDirectory(trash)) {
            return;
        }
        try (Stream<Path> files = Files.list(trash)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not empty " + trash, e);
        }
    }
}
