package dev.sd3studio.app.studio;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.GeneratorFactory;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.scene.control.TitledPane;
import javafx.stage.Screen;
import org.junit.jupiter.api.Test;
import org.testfx.api.FxRobot;
import org.testfx.util.WaitForAsyncUtils;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Not a test (surefire's name patterns leave it out): the gallery column with Export open at the
 * smallest sizes, on the built-in demo model, into {@code -Dsd3studio.screenshots=DIR}. At scale 1 it
 * takes the 800×600 minimum; run with {@code -Dglass.gtk.uiScale=2} it takes 200 % (800×560 logical,
 * a 1600×1200 screen less the window's frame; saved at logical size). The commands are in the README.
 */
class ExportColumnScreenshotTour extends TourBase {
    @Test
    void tour(FxRobot robot) throws Exception {
        Path out = outputDir();
        boolean doubled = Screen.getPrimary().getOutputScaleX() >= 2;
        Path demo = dev.sd3studio.app.BuiltInModel.find().orElseThrow();
        Path data = Files.createDirectories(scratch.resolve("sd3-export-shots"));
        FxTaskRunner runner = new FxTaskRunner();
        StudioViewModel[] vm = new StudioViewModel[1];
        robot.interact(() -> {
            vm[0] = Studio.create(new AppDirs(data.resolve("c"), data.resolve("d")), GeneratorFactory.ENGINE, runner, Optional.of(demo));
            StudioWindow.show(stage, vm[0]);
        });
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> vm[0].parameters().modelProperty().get() != null
                && !vm[0].prompt().hintsProperty().get().examples().isEmpty());
        robot.interact(() -> {
            vm[0].parameters().stepsProperty().set(8);
            vm[0].parameters().imagesPerPromptProperty().set(2);
            vm[0].prompt().promptProperty().set("a large red circle in the center on a yellow background");
            vm[0].generation().generate();
        });
        WaitForAsyncUtils.waitFor(120, TimeUnit.SECONDS, () -> vm[0].gallery().items().size() == 2);
        robot.interact(() -> {
            vm[0].gallery().selected().setAll(vm[0].gallery().items().getFirst());
            stage.setWidth(800);
            stage.setHeight(doubled ? 560 : 600);
            ((TitledPane) stage.getScene().lookup("#exportPane")).setExpanded(true);
        });
        ScreenshotTour.settle();
        ScreenshotTour.shot(robot, stage, out, doubled ? "studio-11-export-200-percent" : "studio-10-export-800x600");
        robot.interact(() -> scrollTo(stage.getScene().lookup("#device")));
        ScreenshotTour.settle();
        ScreenshotTour.shot(robot, stage, out, doubled ? "studio-13-device-row-200-percent" : "studio-13-device-row-800x600");
        robot.interact(() -> stage.hide());
        runner.close();
    }

    /** Scrolls the ScrollPane around {@code node} so that the node's row is in the middle of its viewport. */
    static void scrollTo(javafx.scene.Node node) {
        javafx.scene.Parent p = node.getParent();
        while (p != null && !(p instanceof javafx.scene.control.ScrollPane)) {
            p = p.getParent();
        }
        if (p instanceof javafx.scene.control.ScrollPane sp) {
            double y = sp.getContent().sceneToLocal(node.localToScene(node.getBoundsInLocal())).getMinY();
            double room = sp.getContent().getBoundsInLocal().getHeight() - sp.getViewportBounds().getHeight();
            sp.setVvalue(room <= 0 ? 0 : Math.clamp((y - sp.getViewportBounds().getHeight() / 2) / room, 0, 1));
        }
    }
}
