package dev.sd3studio.app.studio;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.application.Application;
import javafx.stage.Stage;

/** The studio window as a JavaFX application, wired to the real engine. */
public final class StudioApp extends Application {
    private FxTaskRunner runner;

    @Override
    public void start(Stage stage) {
        runner = new FxTaskRunner();
        StudioViewModel vm = Studio.create(AppDirs.detect(), runner);
        StudioWindow.show(stage, vm);
    }

    @Override
    public void stop() {
        if (runner != null) {
            runner.close();
        }
    }
}
