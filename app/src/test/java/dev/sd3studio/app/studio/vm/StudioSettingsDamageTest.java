package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.GalleryStore;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.FakeFactory;
import dev.sd3studio.app.studio.Studio;
import dev.sd3studio.app.studio.task.DirectTaskRunner;
import dev.sd3studio.engine.api.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A damaged settings file: the studio starts, shows the user's gallery, says so once, keeps the file. */
class StudioSettingsDamageTest {
    @TempDir
    Path tmp;

    private StudioViewModel start() throws Exception {
        return Studio.create(new AppDirs(tmp.resolve("config"), tmp.resolve("data")), new FakeFactory(),
                new DirectTaskRunner(), Optional.of(Files.createDirectories(tmp.resolve("models/fake-sd3"))));
    }

    @Test
    void aWrongTypedThemeKeepsTheCustomGalleryAndSaysSoOnce() throws Exception {
        Path pictures = Files.createDirectories(tmp.resolve("my pictures"));
        new GalleryStore(pictures).add(new RgbImage(2, 2, new float[12]), Map.of("prompt", "mine"));
        Path settings = Files.createDirectories(tmp.resolve("config")).resolve("settings.json");
        Files.writeString(settings, "{\"theme\": {}, \"outputFolder\": \"" + pictures + "\", \"promptHistory\": [\"p1\"]}");

        StudioViewModel vm = start();
        assertEquals(1, vm.gallery().items().size(), "the user's pictures are shown");
        assertEquals(UserMessage.Severity.WARNING, vm.messageProperty().get().severity());
        assertTrue(vm.messageProperty().get().text().contains("theme"), vm.messageProperty().get().text());
        vm.settings().save();

        StudioViewModel again = start();
        assertEquals(1, again.gallery().items().size());
        assertTrue(again.messageProperty().get() == null
                || again.messageProperty().get().severity() != UserMessage.Severity.WARNING, "said once only");
        try (var files = Files.list(settings.getParent())) {
            assertEquals(1, files.filter(p -> p.getFileName().toString().startsWith("settings-damaged-")).count());
        }
    }

    @Test
    void aNulCharacterInTheOutputFolderDoesNotStopTheStudio() throws Exception {
        Path settings = Files.createDirectories(tmp.resolve("config")).resolve("settings.json");
        Files.writeString(settings, "{\"outputFolder\": \"/tmp/a\\u0000b\", \"modelFolders\": [\"/m\\u0000\"]}");
        StudioViewModel vm = start();
        assertEquals(tmp.resolve("data/gallery"), vm.gallery().folder());
        assertTrue(vm.messageProperty().get().text().contains("outputFolder"));
    }
}
