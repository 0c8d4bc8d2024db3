package dev.sd3studio.app.studio;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.GeneratorFactory;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.embed.swing.SwingFXUtils;
import javafx.scene.control.MenuButton;
import org.junit.jupiter.api.Test;
import org.testfx.api.FxRobot;
import org.testfx.util.WaitForAsyncUtils;

import javax.imageio.ImageIO;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Not a test (surefire's name patterns leave it out): adding a {@code .safetensors} checkpoint in the studio,
 * on the real engine, into {@code -Dsd3studio.screenshots=DIR}: the "Add model…" menu (a pop-up, captured from
 * the screen, so run it under Xvfb with {@code -Pxvfb}), then the tiny SD3.5 fixture checkpoint (fp16 with a
 * float8 T5 beside it) chosen and a picture generated from it. The tiny model's weights are random: its
 * picture is texture, not a scene.
 */
class CheckpointScreenshotTour extends TourBase {
    @Test
    void tour(FxRobot robot) throws Exception {
        Path out = outputDir();
        Path demo = dev.sd3studio.app.BuiltInModel.find().orElseThrow();
        Path checkpoint = Fixtures.root().resolve("checkpoints/tiny-sd35-comfy-fp16-t5fp8/tiny-sd35.safetensors")
                .toAbsolutePath().normalize();
        FxTaskRunner runner = new FxTaskRunner();
        StudioViewModel[] vm = new StudioViewModel[1];
        robot.interact(() -> {
            vm[0] = Studio.create(new AppDirs(scratch.resolve("c"), scratch.resolve("d")), GeneratorFactory.ENGINE,
                    runner, Optional.of(demo));
            StudioWindow.show(stage, vm[0]);
            stage.setWidth(1280);
            stage.setHeight(800);
        });
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> vm[0].parameters().modelProperty().get() != null);
        robot.interact(() -> ((MenuButton) stage.getScene().lookup("#addModel")).show());
        ScreenshotTour.settle();
        var bounds = new javafx.geometry.Rectangle2D(stage.getX(), stage.getY(), stage.getWidth(), stage.getHeight());
        ImageIO.write(SwingFXUtils.fromFXImage(robot.capture(bounds).getImage(), null), "png",
                out.resolve("checkpoint-01-add-model-menu.png").toFile());
        robot.interact(() -> ((MenuButton) stage.getScene().lookup("#addModel")).hide());

        robot.interact(() -> vm[0].models().addFolder(checkpoint));
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> vm[0].parameters().modelProperty().get() != null
                && vm[0].parameters().modelProperty().get().folder().equals(checkpoint)
                && !vm[0].models().noteProperty().get().startsWith("Loading"));
        robot.interact(() -> {
            vm[0].prompt().promptProperty().set("a glass of orange juice on a sunny windowsill");
            vm[0].generation().generate();
        });
        WaitForAsyncUtils.waitFor(120, TimeUnit.SECONDS, () -> vm[0].gallery().items().size() == 1);
        ScreenshotTour.settle();
        ScreenshotTour.shot(robot, stage, out, "checkpoint-02-added-and-generated");
        robot.interact(() -> stage.hide());
        runner.close();
    }
}
