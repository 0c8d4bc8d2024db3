package dev.sd3studio.app.studio.vm;

import dev.sd3studio.engine.api.ModelReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The model list reads a folder's layout once, and again only after the folder changed. */
class LayoutCacheTest {
    @Test
    void readsAgainOnlyWhenTheFolderChanged(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("transformer"));
        AtomicInteger reads = new AtomicInteger();
        LayoutCache cache = new LayoutCache(f -> {
            reads.incrementAndGet();
            return new ModelReport(f, "optimum", List.of(), List.of());
        });
        cache.get(dir);
        cache.get(dir);
        assertEquals(1, reads.get());
        Path file = Files.writeString(dir.resolve("transformer/model.onnx"), "x");
        file.toFile().setLastModified(System.currentTimeMillis() + 5_000);
        cache.get(dir);
        assertEquals(2, reads.get());
    }
}
