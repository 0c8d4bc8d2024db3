package dev.sd3studio.app.studio;

import dev.sd3studio.app.gpu.GpuPack;
import dev.sd3studio.app.gpu.GpuPackInstaller;
import dev.sd3studio.app.gpu.GpuPackRecipe;
import dev.sd3studio.app.gpu.GpuProbe;
import dev.sd3studio.app.hub.HubClient;
import dev.sd3studio.app.hub.HubSettings;
import dev.sd3studio.app.hub.HubTestServer;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.GpuDialog;
import dev.sd3studio.app.studio.view.ModelCatalogueDialog;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.GeneratorFactory;
import dev.sd3studio.app.studio.vm.GpuViewModel;
import dev.sd3studio.app.studio.vm.ModelCatalogueViewModel;
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
 * Not a test (surefire's name patterns leave it out): screenshots of the model catalogue (against
 * the loopback test Hub serving the tiny fixture model) and of the GPU dialog on this machine, into
 * {@code -Dsd3studio.screenshots=DIR}. The command is in the README.
 */
@ExtendWith(ApplicationExtension.class)
class HubGpuScreenshotTour {
    @org.junit.jupiter.api.io.TempDir
    Path scratch;
    private Stage stage;

    @Start
    void start(Stage stage) {
        this.stage = stage;
    }

    @Test
    void tour(FxRobot robot) throws Exception {
        Path out = Files.createDirectories(Path.of(System.getProperty("sd3studio.screenshots")));
        Path data = Files.createDirectories(scratch.resolve("sd3-hub-shots"));
        FxTaskRunner runner = new FxTaskRunner();
        try (HubTestServer hub = new HubTestServer(Files.createDirectories(data.resolve("hub")))) {
            hub.addRepo("test-org/tiny-sd3-onnx", Fixtures.tinySd3());
            hub.slow.add("test-org/tiny-sd3-onnx/text_encoder_3/model.onnx");
            StudioViewModel[] studio = new StudioViewModel[1];
            robot.interact(() -> {
                studio[0] = Studio.create(new AppDirs(data.resolve("c"), data.resolve("d")), GeneratorFactory.ENGINE, runner,
                        dev.sd3studio.app.BuiltInModel.find());
                StudioWindow.show(stage, studio[0]);
            });
            WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> studio[0].parameters().modelProperty().get() != null);
            robot.interact(() -> ((javafx.scene.control.ScrollPane) stage.getScene().lookup("#editorScroll")).setVvalue(1));
            settle();
            shot(robot, stage, out, "06-device-panel-gpu-button");
            robot.interact(() -> ((javafx.scene.control.ScrollPane) stage.getScene().lookup("#editorScroll")).setVvalue(0.25));

            ModelCatalogueViewModel vm = new ModelCatalogueViewModel(runner, new HubClient(new HubSettings(hub.uri(),
                    Optional.empty(), "none")), data.resolve("models"), f -> studio[0].models().addFolder(f));
            Stage[] dialog = new Stage[1];
            robot.interact(() -> {
                dialog[0] = new ModelCatalogueDialog(stage, vm);
                dialog[0].show();
                vm.repoProperty().set("test-org/tiny-sd3-onnx");
                vm.check();
            });
            WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> vm.stateProperty().get() == ModelCatalogueViewModel.State.READY);
            settle();
            shot(robot, dialog[0], out, "07-model-catalogue-checked");

            // a gated checkpoint repository (the tiny SD3.5 checkpoint under Stability AI's file names), T5 none
            Path ckpt = Fixtures.root().resolve("checkpoints/tiny-sd35-comfy-fp16-t5fp8");
            Path ckptRepo = Files.createDirectories(data.resolve("ckpt-repo/text_encoders"));
            Files.copy(ckpt.resolve("tiny-sd35.safetensors"), ckptRepo.resolveSibling("sd3.5_medium.safetensors"));
            for (String f : List.of("clip_l", "clip_g", "t5xxl_fp8_e4m3fn")) {
                Files.copy(ckpt.resolve("text_encoders/" + f + ".safetensors"), ckptRepo.resolve(f + ".safetensors"));
            }
            hub.addRepo("stabilityai/stable-diffusion-3.5-medium", ckptRepo.getParent());
            robot.interact(() -> {
                vm.t5VariantProperty().set(dev.sd3studio.app.hub.T5Variant.NONE);
                vm.pick(vm.entries().stream().filter(e -> e.repo().equals("stabilityai/stable-diffusion-3.5-medium"))
                        .findFirst().orElseThrow());
            });
            WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> vm.stateProperty().get() == ModelCatalogueViewModel.State.READY);
            settle();
            shot(robot, dialog[0], out, "07b-model-catalogue-checkpoint");
            robot.interact(() -> {
                vm.repoProperty().set("test-org/tiny-sd3-onnx");
                vm.check();
            });
            WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> vm.stateProperty().get() == ModelCatalogueViewModel.State.READY);
            robot.interact(vm::download);
            WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> vm.progressTextProperty().get().contains("text_encoder_3"));
            robot.interact(vm::pause);
            WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> vm.progressTextProperty().get().contains("paused"));
            settle();
            shot(robot, dialog[0], out, "08-model-download-paused");
            robot.interact(vm::resume);
            WaitForAsyncUtils.waitFor(120, TimeUnit.SECONDS, () -> vm.stateProperty().get() == ModelCatalogueViewModel.State.DONE);
            settle();
            robot.interact(() -> dialog[0].hide());
            WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> studio[0].models().entries().size() == 2
                    && !studio[0].models().noteProperty().get().startsWith("Loading"));
            settle();
            shot(robot, stage, out, "09-downloaded-model-in-the-list");

            Path gpuHome = GpuPack.home(new AppDirs(data.resolve("c"), data.resolve("d")));
            GpuViewModel gpu = new GpuViewModel(runner, () -> GpuProbe.system().status(GpuPack.find(gpuHome)),
                    new GpuPackInstaller(gpuHome), GpuPackRecipe.standard());
            robot.interact(() -> {
                dialog[0] = new GpuDialog(stage, gpu);
                dialog[0].show();
            });
            WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> gpu.statusProperty().get().contains("=>"));
            settle();
            shot(robot, dialog[0], out, "10-gpu-status-no-driver");
            robot.interact(() -> {
                dialog[0].hide();
                stage.hide();
            });
        }
        runner.close();
    }

    private static void settle() throws Exception {
        WaitForAsyncUtils.waitForFxEvents();
        Thread.sleep(500);
        WaitForAsyncUtils.waitForFxEvents();
    }

    private static void shot(FxRobot robot, Stage window, Path out, String name) throws Exception {
        java.awt.image.BufferedImage[] img = new java.awt.image.BufferedImage[1];
        robot.interact(() -> img[0] = SwingFXUtils.fromFXImage(window.getScene().snapshot(null), null));
        ImageIO.write(img[0], "png", out.resolve(name + ".png").toFile());
    }
}
