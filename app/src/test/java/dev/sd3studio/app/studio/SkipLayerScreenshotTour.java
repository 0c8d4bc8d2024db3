package dev.sd3studio.app.studio;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.scene.Node;
import javafx.scene.control.ScrollPane;
import javafx.scene.control.Button;
import javafx.stage.Screen;
import org.junit.jupiter.api.Test;
import org.testfx.api.FxRobot;
import org.testfx.util.WaitForAsyncUtils;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Not a test (surefire's name patterns leave it out): the parameter panel with skip-layer guidance on
 * and its advanced values open, into {@code -Dsd3studio.screenshots=DIR}, on the fake engine describing
 * a model with SD3.5 Medium's 24 blocks and recommended layers 7, 8, 9 (what the engine reports for the
 * real one). At scale 1 it takes the default window and 800×600; with {@code -Dglass.gtk.uiScale=2} it
 * takes 200 % (800×560 logical). Run it as the README's other tours, with {@code -Dtest=SkipLayerScreenshotTour}.
 */
class SkipLayerScreenshotTour extends TourBase {
    @Test
    void tour(FxRobot robot) throws Exception {
        Path out = outputDir();
        boolean doubled = Screen.getPrimary().getOutputScaleX() >= 2;
        FakeFactory engine = new FakeFactory();
        engine.modelName = "stable-diffusion-3.5-medium";
        engine.transformerBlocks = 24;
        engine.recommendedSkipLayers = List.of(7, 8, 9);
        Path model = Files.createDirectories(scratch.resolve("models/stable-diffusion-3.5-medium"));
        FxTaskRunner runner = new FxTaskRunner();
        StudioViewModel[] vm = new StudioViewModel[1];
        robot.interact(() -> {
            vm[0] = Studio.create(new AppDirs(scratch.resolve("c"), scratch.resolve("d")), engine, runner, Optional.of(model));
            StudioWindow.show(stage, vm[0]);
        });
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> vm[0].parameters().modelProperty().get() != null
                && !vm[0].models().noteProperty().get().startsWith("Loading"));
        robot.interact(() -> {
            vm[0].prompt().promptProperty().set("a portrait of an old fisherman mending a net, hands in focus");
            vm[0].parameters().skipLayers().onProperty().set(true);
            ((Button) stage.getScene().lookup("#skipLayerAdvanced")).fire();
        });
        if (doubled) {
            show(robot, 800, 560);
            ScreenshotTour.shot(robot, stage, out, "slg-panel-200-percent");
        } else {
            show(robot, 1280, 800);
            ScreenshotTour.shot(robot, stage, out, "slg-panel");
            show(robot, 800, 600);
            ScreenshotTour.shot(robot, stage, out, "slg-panel-800x600");
        }
        robot.interact(() -> stage.hide());
        runner.close();
    }

    /** Sizes the window and scrolls the editor so that the SLG rows stand in its middle. */
    private void show(FxRobot robot, double width, double height) throws Exception {
        robot.interact(() -> {
            stage.setWidth(width);
            stage.setHeight(height);
        });
        ScreenshotTour.settle();
        robot.interact(() -> {
            ScrollPane scroll = (ScrollPane) stage.getScene().lookup("#editorScroll");
            Node top = stage.getScene().lookup("#clipSkip");
            double y = scroll.getContent().sceneToLocal(top.localToScene(top.getBoundsInLocal())).getMinY();
            double range = scroll.getContent().getBoundsInLocal().getHeight() - scroll.getViewportBounds().getHeight();
            scroll.setVvalue(range <= 0 ? 0 : Math.min(1, y / range));
        });
        ScreenshotTour.settle();
    }
}
