package dev.sd3studio.app.studio;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.GeneratorFactory;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.embed.swing.SwingFXUtils;
import org.junit.jupiter.api.Test;
import org.testfx.api.FxRobot;
import org.testfx.util.WaitForAsyncUtils;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Not a test (surefire's name patterns leave it out): a real inpainting run on the built-in demo
 * model, photographed into {@code -Dsd3studio.screenshots=DIR} — a red circle is generated, the
 * circle is masked with the brush, and the masked part is repainted yellow. The command is in the README.
 */
class InpaintScreenshotTour extends TourBase {
    static final String FIRST = "a large red circle in the center on a blue background";
    static final String REPAINT = "a large yellow circle in the center on a blue background";
    @Test
    void tour(FxRobot robot) throws Exception {
        Path demo = dev.sd3studio.app.BuiltInModel.find().orElseThrow();
        Path out = outputDir();
        Path data = Files.createDirectories(scratch.resolve("sd3-inpaint-shots"));
        FxTaskRunner runner = new FxTaskRunner();
        StudioViewModel[] vm = new StudioViewModel[1];
        robot.interact(() -> {
            vm[0] = Studio.create(new AppDirs(data.resolve("c"), data.resolve("d")), GeneratorFactory.ENGINE, runner,
                    Optional.of(demo));
            StudioWindow.show(stage, vm[0]);
        });
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> vm[0].parameters().modelProperty().get() != null
                && !vm[0].models().noteProperty().get().startsWith("Loading"));

        // 1. the picture to change: a red circle, from a fixed seed
        robot.interact(() -> {
            vm[0].parameters().randomSeedProperty().set(false);
            vm[0].parameters().seedProperty().set(Long.getLong("sd3studio.inpaint.seed", 7));
            vm[0].prompt().promptProperty().set(FIRST);
            vm[0].generation().generate();
        });
        WaitForAsyncUtils.waitFor(180, TimeUnit.SECONDS, () -> vm[0].gallery().items().size() == 1);

        // 2. it becomes the start image; the circle is painted over with the brush
        robot.interact(() -> vm[0].imports().useAsInit(vm[0].gallery().items().getFirst()));
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> vm[0].parameters().initImageProperty().get() != null);
        robot.interact(() -> {
            var mask = vm[0].mask();
            mask.editingProperty().set(true);
            int w = mask.imageWidth();
            int h = mask.imageHeight();
            mask.brushSizeProperty().set(w * 0.22);
            for (double r = 0; r <= 0.22; r += 0.055) { // concentric rings: a disc over the circle
                mask.beginStroke(w / 2.0 + r * w, h / 2.0);
                for (int a = 0; a <= 48; a++) {
                    double t = 2 * Math.PI * a / 48;
                    mask.strokeTo(w / 2.0 + r * w * Math.cos(t), h / 2.0 + r * h * Math.sin(t));
                }
                mask.endStroke();
            }
            vm[0].prompt().promptProperty().set(REPAINT);
            vm[0].parameters().strengthProperty().set(Double.parseDouble(System.getProperty("sd3studio.inpaint.strength", "1.0")));
        });
        settle();
        shot(robot, out, "06-inpaint-mask-painted");

        // 3. repaint only the masked part
        robot.interact(() -> vm[0].generation().generate());
        WaitForAsyncUtils.waitFor(180, TimeUnit.SECONDS, () -> vm[0].gallery().items().size() == 2);
        settle();
        shot(robot, out, "07-inpaint-result");
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
