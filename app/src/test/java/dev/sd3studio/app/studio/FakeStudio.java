package dev.sd3studio.app.studio;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.stage.Stage;
import org.testfx.api.FxRobot;
import org.testfx.util.WaitForAsyncUtils;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The real studio window over a {@link FakeFactory} engine, for TestFX tests: shown from a test's
 * {@code @Start} in a fresh data folder, closed from its {@code @AfterEach}.
 */
final class FakeStudio {
    final StudioViewModel vm;
    private final Stage stage;
    private final FxTaskRunner runner;

    private FakeStudio(Stage stage, StudioViewModel vm, FxTaskRunner runner) {
        this.stage = stage;
        this.vm = vm;
        this.runner = runner;
    }

    static FakeStudio show(Stage stage, Path tmp, FakeFactory engine) throws IOException {
        Path data = Files.createTempDirectory(tmp, "studio");
        Path model = Files.createDirectories(data.resolve("fake-model"));
        FxTaskRunner runner = new FxTaskRunner();
        StudioViewModel vm = Studio.create(new AppDirs(data.resolve("config"), data.resolve("data")), engine, runner,
                Optional.of(model));
        StudioWindow.show(stage, vm);
        return new FakeStudio(stage, vm, runner);
    }

    void close(FxRobot robot) {
        robot.interact(stage::hide);
        runner.close();
    }

    /** Waits (at most a minute: the first window of a JVM on a busy machine is slow) and lets FX settle. */
    static void await(Callable<Boolean> condition) throws Exception {
        WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, condition);
        WaitForAsyncUtils.waitForFxEvents();
    }
}
