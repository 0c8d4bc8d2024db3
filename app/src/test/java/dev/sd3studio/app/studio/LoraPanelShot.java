package dev.sd3studio.app.studio;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.GeneratorFactory;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.embed.swing.SwingFXUtils;
import javafx.stage.Stage;
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
 * Not a test (surefire's name patterns leave it out): the screenshot of the LoRA panel for the README, on
 * the tiny-sd3 fixture with its LoRA golden loaded and the match report open:
 * {@code xvfb-run -a ./mvnw -o -q -pl app -am test -Pxvfb -Dtest=LoraPanelShot -Dsurefire.failIfNoSpecifiedTests=false
 * -Dsd3studio.screenshots=$PWD/docs/screenshots}.
 */
@ExtendWith(ApplicationExtension.class)
class LoraPanelShot {
    @org.junit.jupiter.api.io.TempDir
    Path scratch;
    private Stage stage;

    @Start
    void start(Stage stage) {
        this.stage = stage;
    }

    @Test
    void shot(FxRobot robot) throws Exception {
        Path out = Files.createDirectories(Path.of(System.getProperty("sd3studio.screenshots")));
        Path data = Files.createDirectories(scratch.resolve("sd3-lora-shot"));
        Path lora = Fixtures.root().resolve("goldens-lora/sd3_lora_rank4/lora.safetensors");
        FxTaskRunner runner = new FxTaskRunner();
        StudioViewModel[] vm = new StudioViewModel[1];
        robot.interact(() -> {
            vm[0] = Studio.create(new AppDirs(data.resolve("c"), data.resolve("d")), GeneratorFactory.ENGINE, runner,
                    Optional.of(Fixtures.tinySd3()));
            StudioWindow.show(stage, vm[0]);
        });
        WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> vm[0].parameters().modelProperty().get() != null);
        robot.interact(() -> {
            vm[0].prompt().promptProperty().set("a photo of a cat sitting on a red sofa");
            vm[0].loras().add(List.of(lora));
            vm[0].loras().items().getFirst().scaleProperty().set(0.8);
            vm[0].loras().showReport();
        });
        WaitForAsyncUtils.waitFor(120, TimeUnit.SECONDS, () -> vm[0].loras().reportProperty().get() != null
                || vm[0].messageProperty().get() != null);
        if (vm[0].loras().reportProperty().get() == null) {
            throw new AssertionError(vm[0].messageProperty().get().text());
        }
        robot.interact(() -> stage.getScene().lookup("#loraPanel").requestFocus());
        robot.interact(() -> {
            javafx.scene.control.ScrollPane scroll = (javafx.scene.control.ScrollPane) stage.getScene().lookup("#editorScroll");
            scroll.setVvalue(1.0);
        });
        WaitForAsyncUtils.waitForFxEvents();
        Thread.sleep(500);
        WaitForAsyncUtils.waitForFxEvents();
        java.awt.image.BufferedImage[] img = new java.awt.image.BufferedImage[1];
        robot.interact(() -> img[0] = SwingFXUtils.fromFXImage(stage.getScene().snapshot(null), null));
        ImageIO.write(img[0], "png", out.resolve("11-lora-panel.png").toFile());
        robot.interact(() -> stage.hide());
        runner.close();
    }
}
