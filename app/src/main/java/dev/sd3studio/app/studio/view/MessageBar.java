package dev.sd3studio.app.studio.view;

import atlantafx.base.theme.Styles;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import dev.sd3studio.app.studio.vm.UserMessage;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.input.Clipboard;
import javafx.scene.input.ClipboardContent;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;

/** The banner for errors, warnings and notes, with "Copy details" and a close button. */
final class MessageBar extends HBox {
    static final javafx.util.Duration INFO_SHOWN = javafx.util.Duration.seconds(8);
    private final javafx.animation.PauseTransition hide = new javafx.animation.PauseTransition(INFO_SHOWN);

    MessageBar(StudioViewModel vm) {
        super(8);
        Label text = new Label();
        text.setId("message");
        text.setWrapText(true);
        text.setMaxWidth(Double.MAX_VALUE);
        HBox.setHgrow(text, Priority.ALWAYS);
        Button details = Controls.describe(new Button("Copy details"), "copyDetails", "Copy the technical details for a bug report");
        details.setOnAction(e -> {
            ClipboardContent c = new ClipboardContent();
            UserMessage m = vm.messageProperty().get();
            c.putString(m == null ? "" : m.text() + "\n\n" + m.details());
            Clipboard.getSystemClipboard().setContent(c);
        });
        Button close = Controls.describe(new Button("✕"), "dismissMessage", "Dismiss this message");
        close.getStyleClass().add(Styles.FLAT);
        close.setOnAction(e -> vm.messageProperty().set(null));
        getChildren().addAll(text, details, close);
        setAlignment(Pos.CENTER_LEFT);
        setPadding(new Insets(6, 10, 6, 10));
        visibleProperty().bind(vm.messageProperty().isNotNull());
        managedProperty().bind(visibleProperty());
        vm.messageProperty().addListener((o, a, m) -> {
            text.setText(m == null ? "" : m.text());
            details.setVisible(m != null && !m.details().isEmpty());
            String bg = m == null ? "" : switch (m.severity()) {
                case ERROR -> "-color-danger-subtle";
                case WARNING -> "-color-warning-subtle";
                case INFO -> "-color-accent-subtle";
            };
            setStyle(m == null ? "" : "-fx-background-color: -color-bg-default, " + bg + "; -fx-background-radius: 6;");
            hide.stop();
            if (m != null && m.severity() == UserMessage.Severity.INFO) {
                hide.setOnFinished(e -> {
                    if (vm.messageProperty().get() == m) {
                        vm.messageProperty().set(null);
                    }
                });
                hide.playFromStart(); // notes go away by themselves; warnings and errors wait for the user
            }
        });
    }
}
