package dev.sd3studio.app.studio.vm;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.ModelReport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Model layouts per folder, read again only when the folder changed: a file added, removed or
 * rewritten in the folder or one of its component folders changes a modification time we stamp.
 */
final class LayoutCache {
    interface Reader {
        ModelReport read(Path folder) throws EngineException;
    }

    private record Entry(long stamp, ModelReport report) {
    }

    private final Reader reader;
    private final Map<Path, Entry> entries = new ConcurrentHashMap<>();

    LayoutCache(Reader reader) {
        this.reader = reader;
    }

    ModelReport get(Path folder) throws EngineException {
        Path key = folder.toAbsolutePath().normalize();
        long stamp = stamp(key);
        Entry e = entries.get(key);
        if (e != null && e.stamp() == stamp) {
            return e.report();
        }
        ModelReport report = reader.read(key);
        entries.put(key, new Entry(stamp, report));
        return report;
    }

    /** A hash of the modification times of the folder, its subfolders and their files. */
    static long stamp(Path folder) {
        try (Stream<Path> files = Files.walk(folder, 2)) {
            return files.mapToLong(p -> p.toString().hashCode() * 31L + p.toFile().lastModified()).sum();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
