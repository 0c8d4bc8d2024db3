package dev.sd3studio.app.studio;

import javafx.stage.Stage;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.framework.junit5.ApplicationExtension;
import org.junit.jupiter.api.BeforeEach;
import org.testfx.api.FxToolkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What every screenshot tour starts with (they are not tests: surefire's name patterns leave them out): the
 * stage TestFX opens, a scratch folder, and the folder {@code -Dsd3studio.screenshots=DIR} names for the pictures.
 */
@ExtendWith(ApplicationExtension.class)
abstract class TourBase {
    @org.junit.jupiter.api.io.TempDir
    Path scratch;
    Stage stage;

    /** TestFX looks for {@code @Start} on the tour's own class only, so the stage is taken here instead. */
    @BeforeEach
    void takeStage() throws Exception {
        stage = FxToolkit.registerPrimaryStage();
    }

    /** The folder the screenshots go to, made if needed. */
    static Path outputDir() throws IOException {
        String dir = System.getProperty("sd3studio.screenshots");
        if (dir == null || dir.isBlank()) {
            throw new IllegalArgumentException("pass -Dsd3studio.screenshots=DIR to choose where the screenshots go");
        }
        return Files.createDirectories(Path.of(dir));
    }
}
