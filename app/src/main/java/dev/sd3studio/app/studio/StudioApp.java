package dev.sd3studio.app.studio;

import dev.sd3studio.app.AotTraining;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.AppIcon;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.animation.PauseTransition;
import javafx.application.Application;
import javafx.stage.Stage;
import javafx.util.Duration;

/** The studio window as a JavaFX application, wired to the real engine. */
public final class StudioApp extends Application {
    private FxTaskRunner runner;

    @Override
    public void start(Stage stage) {
        runner = new FxTaskRunner();
        StudioViewModel vm = Studio.create(AppDirs.detect(), runner);
        stage.getIcons().setAll(AppIcon.images());
        StudioWindow.show(stage, vm);
        if (AotTraining.active()) {
            // the packaging build's training start: close once the window has settled
            PauseTransition wait = new PauseTransition(Duration.seconds(AotTraining.STUDIO_SECONDS));
            wait.setOnFinished(e -> stage.close());
            wait.play();
        }
    }

    @Override
    public void stop() {
        if (runner != null) {
            runner.close();
        }
    }
}
