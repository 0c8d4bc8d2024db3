package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Export goes on past an unreadable item and names it (it stopped at the first one). */
class ExporterSkipTest {
    @Test
    void unreadableItemsAreSkippedAndReported(@TempDir Path tmp) throws Exception {
        GalleryStore store = new GalleryStore(tmp.resolve("g"));
        List<GalleryItem> items = new ArrayList<>();
        items.add(store.add(new RgbImage(2, 2, new float[12]), Map.of("prompt", "one")));
        Path garbage = Files.writeString(tmp.resolve("g/garbage.png"), "not a picture");
        items.add(new GalleryItem(garbage, Map.of()));
        items.add(new GalleryItem(tmp.resolve("g/deleted.png"), Map.of()));
        items.add(store.add(new RgbImage(2, 2, new float[12]), Map.of("prompt", "two")));
        Exporter.Report r = Exporter.export(items, tmp.resolve("out"), new Exporter.Options(ExportFormat.PNG, 1f, true));
        assertEquals(2, r.written().size());
        assertEquals(2, r.skipped().size());
        assertTrue(r.skipped().getFirst().startsWith("garbage.png"), r.skipped().toString());
    }
}
