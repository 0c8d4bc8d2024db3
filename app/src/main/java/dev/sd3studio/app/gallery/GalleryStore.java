package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.api.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The gallery is the output folder itself: one PNG per image, parameters in its text chunks, no
 * separate index that could disagree with the files. Writes are atomic (temp file + rename), so a
 * crash leaves either the whole picture or none, and a new picture never replaces an existing file,
 * so two studios on one folder cannot overwrite each other's saves. Deleted items wait in
 * {@code .trash/<process id>} so a delete can be undone; a process's trash is emptied once that
 * process has ended, never under a running one. Temporary files of killed writes are removed at load.
 */
public final class GalleryStore {
    private static final Logger LOG = Logger.getLogger(GalleryStore.class.getName());
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS");
    private static final String TRASH = ".trash";
    private final Path dir;
    private final AtomicInteger counter = new AtomicInteger();

    private final Clock clock;

    public GalleryStore(Path dir) {
        this(dir, Clock.systemDefaultZone());
    }

    /** With a fixed clock a test makes two stores pick the same names at once. */
    GalleryStore(Path dir, Clock clock) {
        this.dir = dir;
        this.clock = clock;
    }

    public Path dir() {
        return dir;
    }

    /** Every PNG, newest first; other files, folders and unreadable files are skipped and logged, never fatal. */
    public List<GalleryItem> load() throws IOException {
        Files.createDirectories(dir);
        emptyTrashOfEndedProcesses();
        AtomicFiles.removeStaleParts(dir);
        List<GalleryItem> items = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(GalleryStore::looksLikePng).toList()) {
                try {
                    if (Files.isRegularFile(f) && PngFiles.isPng(f)) {
                        items.add(new GalleryItem(f, parameters(f)));
                    } else {
                        LOG.info("skipping " + f + ": not a PNG file");
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.WARNING, "skipping unreadable gallery file " + f, e);
                }
            }
        }
        items.sort(Comparator.comparing((GalleryItem i) -> i.file().getFileName().toString()).reversed());
        return items;
    }

    private static boolean looksLikePng(Path p) {
        String name = p.getFileName().toString();
        return !name.startsWith(".") && name.toLowerCase(Locale.ROOT).endsWith(".png");
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

    /** Saves under a new, unused name; never replaces a file, not even one another process just wrote. */
    public GalleryItem add(RgbImage image, Map<String, String> parameters) throws IOException {
        Files.createDirectories(dir);
        byte[] png = PngFiles.encode(PngFiles.toBufferedImage(image), Map.of(PngMetadata.PARAMETERS,
                PngMetadata.parametersText(parameters), PngMetadata.OURS, PngMetadata.encode(parameters)));
        String stamp = LocalDateTime.now(clock).format(STAMP);
        for (int attempt = 0; attempt < 1000; attempt++) {
            Path file = dir.resolve(stamp + "-" + String.format("%03d", counter.incrementAndGet() % 1000) + ".png");
            if (AtomicFiles.writeNew(file, png)) {
                return new GalleryItem(file, parameters);
            }
        }
        throw new IOException("no free file name in " + dir + " for " + stamp);
    }

    /** Moves the file to this process's trash; {@link #restore} brings it back. */
    public void delete(GalleryItem item) throws IOException {
        Path trash = ownTrash();
        Files.createDirectories(trash);
        AtomicFiles.move(item.file(), trash.resolve(item.file().getFileName()));
    }

    public void restore(GalleryItem item) throws IOException {
        AtomicFiles.move(ownTrash().resolve(item.file().getFileName()), item.file());
    }

    private Path ownTrash() {
        return dir.resolve(TRASH).resolve(Long.toString(ProcessHandle.current().pid()));
    }

    /** Trash folders of processes that no longer run; loose files are from versions without per-process trash. */
    private void emptyTrashOfEndedProcesses() {
        Path trash = dir.resolve(TRASH);
        if (!Files.isDirectory(trash, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> entries = Files.list(trash)) {
            for (Path e : entries.toList()) {
                if (!Files.isDirectory(e, LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(e);
                } else if (belongsToEndedProcess(e.getFileName().toString())) {
                    deleteTree(e);
                }
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not empty " + trash, e);
        }
    }

    private static boolean belongsToEndedProcess(String name) {
        if (name.isEmpty() || !name.chars().allMatch(Character::isDigit) || name.length() > 18) {
            return false;
        }
        long pid = Long.parseLong(name);
        return pid != ProcessHandle.current().pid()
                && ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
    }

    private static void deleteTree(Path folder) throws IOException {
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
