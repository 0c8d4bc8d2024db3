package dev.sd3studio.app.studio;

import atlantafx.base.theme.PrimerDark;
import javafx.application.Application;
import javafx.scene.Scene;
import javafx.scene.control.Label;
import javafx.scene.layout.StackPane;
import javafx.stage.Stage;

/** The studio window. */
public final class StudioApp extends Application {
    @Override
    public void start(Stage stage) {
        Application.setUserAgentStylesheet(new PrimerDark().getUserAgentStylesheet());
        stage.setTitle("SD3 Studio");
        stage.setScene(new Scene(new StackPane(new Label("SD3 Studio")), 1280, 800));
        stage.show();
    }
}
