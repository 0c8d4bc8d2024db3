package dev.sd3studio.app.studio;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.GeneratorFactory;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.embed.swing.SwingFXUtils;
import javafx.stage.Stage;
import org.junit.jupiter.api.Test;
import org.testfx.api.FxRobot;
import org.testfx.util.WaitForAsyncUtils;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Not a test (surefire's name patterns leave it out): takes screenshots of the main states, on the
 * built-in demo model, into the folder named by {@code -Dsd3studio.screenshots=DIR}. The command is
 * in the README.
 */
class ScreenshotTour extends TourBase {
    @Test
    void tour(FxRobot robot) throws Exception {
        Path demo = dev.sd3studio.app.BuiltInModel.find().orElseThrow();
        Path out = outputDir();
        Path data = Files.createDirectories(scratch.resolve("sd3-shots"));
        FxTaskRunner runner = new FxTaskRunner();

        // 1. first start without any model
        StudioViewModel[] vm = new StudioViewModel[1];
        robot.interact(() -> {
            vm[0] = Studio.create(new AppDirs(data.resolve("c0"), data.resolve("d0")), GeneratorFactory.ENGINE, runner, Optional.empty());
            StudioWindow.show(stage, vm[0]);
        });
        settle();
        shot(robot, out, "studio-01-first-start-no-model");
        robot.interact(() -> stage.hide());

        // 2. the built-in demo model: an off-grammar prompt gets its hint; token counts per encoder
        robot.interact(() -> {
            vm[0] = Studio.create(new AppDirs(data.resolve("c1"), data.resolve("d1")), GeneratorFactory.ENGINE, runner, Optional.of(demo));
            StudioWindow.show(stage, vm[0]);
        });
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> vm[0].parameters().modelProperty().get() != null
                && !vm[0].prompt().hintsProperty().get().examples().isEmpty());
        robot.interact(() -> vm[0].prompt().promptProperty().set("a photo of a cat wearing a wizard hat"));
        WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> !vm[0].prompt().tokens().isEmpty());
        settle();
        shot(robot, out, "studio-02-prompt-hint-and-token-counts");

        // 3. the examples menu (a pop-up window: captured from the screen)
        robot.clickOn("#examples");
        settle();
        screen(robot, out, "studio-03-examples-menu");
        robot.press(javafx.scene.input.KeyCode.ESCAPE).release(javafx.scene.input.KeyCode.ESCAPE);

        // 4. a batch of four and a few prompts: the gallery grid with batch badges
        robot.interact(() -> {
            vm[0].parameters().imagesPerPromptProperty().set(4);
            vm[0].prompt().promptProperty().set("a large red circle in the center on a blue background");
            vm[0].generation().generate();
            vm[0].parameters().imagesPerPromptProperty().set(1);
        });
        List<String> prompts = List.of("a small yellow square at the top left on a purple background",
                "a large white triangle at the bottom right on a green background",
                "a small orange circle at the top right on a black background");
        for (String p : prompts) {
            robot.interact(() -> {
                vm[0].prompt().promptProperty().set(p);
                vm[0].generation().generate();
            });
        }
        WaitForAsyncUtils.waitFor(180, TimeUnit.SECONDS, () -> vm[0].gallery().items().size() == prompts.size() + 4);
        settle();
        shot(robot, out, "studio-04-generated-gallery-grid");

        // 5. the viewer on a batch picture, then two compared
        robot.interact(() -> vm[0].viewer().open(vm[0].gallery().items().get(prompts.size() + 1)));
        settle();
        shot(robot, out, "studio-05-viewer");
        robot.interact(() -> vm[0].viewer().compare(vm[0].gallery().items().get(prompts.size()),
                vm[0].gallery().items().get(prompts.size() + 3)));
        settle();
        shot(robot, out, "studio-06-viewer-compare");
        robot.interact(() -> vm[0].viewer().close());

        // 7. image-to-image from a gallery picture, export panel open
        robot.interact(() -> vm[0].imports().useAsInit(vm[0].gallery().items().getFirst()));
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> vm[0].parameters().initImageProperty().get() != null);
        robot.interact(() -> ((javafx.scene.control.TitledPane) stage.getScene().lookup("#exportPane")).setExpanded(true));
        settle();
        shot(robot, out, "studio-07-image-to-image-and-export");

        // 8. dark theme at the 800×600 minimum, mid-run
        robot.interact(() -> {
            ((javafx.scene.control.TitledPane) stage.getScene().lookup("#exportPane")).setExpanded(false);
            vm[0].settings().themeProperty().set("dark");
            vm[0].parameters().initImageProperty().set(null);
            vm[0].parameters().stepsProperty().set(200);
            stage.setWidth(800);
            stage.setHeight(600);
            vm[0].generation().generate();
        });
        WaitForAsyncUtils.waitFor(120, TimeUnit.SECONDS, () -> vm[0].generation().progressProperty().get() > 0.2);
        settle();
        shot(robot, out, "studio-08-dark-800x600-running");
        robot.interact(() -> vm[0].generation().cancel());
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> vm[0].generation().runningProperty().get() == null);
        robot.interact(() -> stage.hide());
        runner.close();
    }

    private void screen(FxRobot robot, Path out, String name) throws Exception {
        var b = new javafx.geometry.Rectangle2D(stage.getX(), stage.getY(), stage.getWidth(), stage.getHeight());
        var img = robot.capture(b).getImage();
        ImageIO.write(SwingFXUtils.fromFXImage(img, null), "png", out.resolve(name + ".png").toFile());
    }

    /** Lets layout, CSS and image loading finish before a picture is taken. */
    static void settle() throws Exception {
        WaitForAsyncUtils.waitForFxEvents();
        Thread.sleep(500);
        WaitForAsyncUtils.waitForFxEvents();
    }

    private void shot(FxRobot robot, Path out, String name) throws Exception {
        shot(robot, stage, out, name);
    }

    /** The window's scene at its logical size, as {@code out/name.png}. */
    static void shot(FxRobot robot, Stage stage, Path out, String name) throws Exception {
        java.awt.image.BufferedImage[] img = new java.awt.image.BufferedImage[1];
        robot.interact(() -> img[0] = SwingFXUtils.fromFXImage(stage.getScene().snapshot(null), null));
        ImageIO.write(img[0], "png", out.resolve(name + ".png").toFile());
    }
}
