package dev.sd3studio.app.studio;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.GeneratorFactory;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import dev.sd3studio.app.studio.vm.UserMessage;
import javafx.embed.swing.SwingFXUtils;
import javafx.stage.Stage;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Not a test: takes screenshots of the main states into the folder named by
 * {@code -Dsd3studio.screenshots=DIR}; without it, it does nothing. See the report for the command.
 */
@ExtendWith(ApplicationExtension.class)
class ScreenshotTour {
    private Stage stage;

    @Start
    void start(Stage stage) {
        this.stage = stage;
    }

    @Test
    void tour(FxRobot robot) throws Exception {
        String dir = System.getProperty("sd3studio.screenshots");
        Assumptions.assumeTrue(dir != null && !dir.isBlank(), "screenshots only on request");
        Path out = Files.createDirectories(Path.of(dir));
        Path data = Files.createTempDirectory("sd3-shots");
        FxTaskRunner runner = new FxTaskRunner();

        // 1. first start without any model
        StudioViewModel[] vm = new StudioViewModel[1];
        robot.interact(() -> {
            vm[0] = Studio.create(new AppDirs(data.resolve("c0"), data.resolve("d0")), GeneratorFactory.ENGINE, runner, Optional.empty());
            StudioWindow.show(stage, vm[0]);
        });
        settle();
        shot(robot, out, "01-first-start-no-model");
        robot.interact(() -> stage.hide());

        // 2. with the tiny model: prompt typed, token counts, a long prompt cut by CLIP
        Path tiny = Fixtures.tinySd3();
        robot.interact(() -> {
            vm[0] = Studio.create(new AppDirs(data.resolve("c1"), data.resolve("d1")), GeneratorFactory.ENGINE, runner, Optional.of(tiny));
            StudioWindow.show(stage, vm[0]);
        });
        WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> vm[0].parameters().modelProperty().get() != null);
        robot.interact(() -> vm[0].prompt().promptProperty().set("a lighthouse on a cliff at sunset, dramatic clouds, "
                + "oil painting, ".repeat(12) + "highly detailed"));
        WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> !vm[0].prompt().tokens().isEmpty());
        settle();
        shot(robot, out, "02-prompt-with-token-counts");

        // 3. generated pictures in the gallery (the tiny model's pictures are noise by design)
        robot.interact(() -> {
            vm[0].parameters().widthProperty().set(64);
            vm[0].parameters().heightProperty().set(64);
            vm[0].parameters().stepsProperty().set(8);
        });
        for (int i = 0; i < 3; i++) {
            robot.interact(() -> vm[0].generate());
        }
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> vm[0].gallery().items().size() == 3);
        settle();
        shot(robot, out, "03-generated-gallery");

        // 4. image-to-image from a gallery picture, export panel open
        robot.interact(() -> vm[0].useAsInit(vm[0].gallery().items().getFirst()));
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> vm[0].parameters().initImageProperty().get() != null);
        robot.interact(() -> ((javafx.scene.control.TitledPane) stage.getScene().lookup("#exportPane")).setExpanded(true));
        settle();
        shot(robot, out, "04-image-to-image-and-export");

        // 5. an error, dark theme
        robot.interact(() -> {
            vm[0].themeProperty().set("dark");
            vm[0].messageProperty().set(new UserMessage(UserMessage.Severity.ERROR, "CUDA device 0 is unavailable: no"
                    + " libcudart found. Choose CPU under Device, or install the GPU runtime.", "details"));
        });
        settle();
        shot(robot, out, "05-dark-theme-with-error");
        robot.interact(() -> stage.hide());
        runner.close();
    }

    private static void settle() throws Exception {
        WaitForAsyncUtils.waitForFxEvents();
        Thread.sleep(500);
        WaitForAsyncUtils.waitForFxEvents();
    }

    private void shot(FxRobot robot, Path out, String name) throws Exception {
        java.awt.image.BufferedImage[] img = new java.awt.image.BufferedImage[1];
        robot.interact(() -> img[0] = SwingFXUtils.fromFXImage(stage.getScene().snapshot(null), null));
        ImageIO.write(img[0], "png", out.resolve(name + ".png").toFile());
    }
}
