package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.MaskBombs;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.FakeFactory;
import dev.sd3studio.app.studio.Studio;
import dev.sd3studio.engine.api.RgbImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** "Load its parameters" reads what a picture carries through the task runner, never on the UI thread. */
class LoadParametersTest {
    @TempDir
    Path tmp;
    TokenCounterTest.ManualRunner runner = new TokenCounterTest.ManualRunner();
    StudioViewModel vm;

    @BeforeEach
    void setUp() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("fake"));
        vm = Studio.create(new AppDirs(tmp.resolve("c"), tmp.resolve("d")), new FakeFactory(), runner, Optional.of(model));
    }

    @AfterEach
    void tearDown() {
        vm.close();
    }

    @Test
    void theStoredMaskIsDecodedByTheRunnerAndABombIsRefused() {
        vm.imports().setInitImage(new RgbImage(64, 64, new float[64 * 64 * 3]), "photo");
        runner.hold = "load-parameters";
        Map<String, String> inpainted = Map.of("prompt", "a red circle", "steps", "2", "guidance", "1.0",
                "width", "64", "height", "64", "seed", "7", "image_to_image", "true", "strength", "0.6",
                "mask", MaskBombs.blackMask(16000, 16000));
        vm.imports().loadParameters(inpainted);
        assertEquals(1, runner.held.size(), "the mask waits for the runner: nothing is decoded on the caller's thread");
        assertEquals("", vm.prompt().promptProperty().get());

        runner.held.removeFirst().run();
        assertEquals("a red circle", vm.prompt().promptProperty().get(), "the parameters follow once it is read");
        UserMessage last = vm.messageProperty().get();
        assertEquals(UserMessage.Severity.WARNING, last.severity());
        assertTrue(last.text().contains("16000x16000"), last.text());
        assertEquals(0.0, vm.mask().coverageProperty().get());
        assertEquals("photo", vm.parameters().initImageNameProperty().get(), "the start image stays");
    }
}
