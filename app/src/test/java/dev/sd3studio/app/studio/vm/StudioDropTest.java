package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.FakeFactory;
import dev.sd3studio.app.studio.Studio;
import dev.sd3studio.app.studio.task.DirectTaskRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A JPEG named .png dropped on the canvas becomes the start image (it was an internal error). */
class StudioDropTest {
    @Test
    void aJpegNamedPngBecomesTheStartImage(@TempDir Path tmp) throws Exception {
        StudioViewModel vm = Studio.create(new AppDirs(tmp.resolve("config"), tmp.resolve("data")), new FakeFactory(),
                new DirectTaskRunner(), Optional.of(Files.createDirectories(tmp.resolve("models/fake-sd3"))));
        Path photo = tmp.resolve("photo.png");
        ImageIO.write(new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB), "jpg", photo.toFile());
        vm.imports().dropFiles(List.of(photo));
        assertNotNull(vm.parameters().initImageProperty().get(), String.valueOf(vm.messageProperty().get()));
        assertEquals(40, vm.parameters().initImageProperty().get().width());
        assertTrue(vm.messageProperty().get() == null
                || vm.messageProperty().get().severity() != UserMessage.Severity.ERROR);
    }
}
