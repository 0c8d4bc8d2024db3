package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.studio.vm.AboutInfo;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.TextArea;
import javafx.scene.image.ImageView;
import javafx.scene.input.Clipboard;
import javafx.scene.input.ClipboardContent;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.stage.Modality;
import javafx.stage.Stage;
import javafx.stage.Window;

/** About SD3 Studio: version, ONNX Runtime, the device and why, the data folders, the licences. */
public final class AboutDialog {
    private AboutDialog() {
    }

    public static Stage show(Window owner, AboutInfo info) {
        ImageView icon = new ImageView(AppIcon.images().get(4));
        icon.setFitWidth(64);
        icon.setFitHeight(64);
        Label title = new Label("SD3 Studio " + info.version());
        title.getStyleClass().add("title-2");
        title.setId("aboutTitle");
        HBox head = new HBox(16, icon, new VBox(4, title, new Label("Stable Diffusion 3 on your own computer")));
        head.setAlignment(Pos.CENTER_LEFT);

        GridPane facts = new GridPane();
        facts.setHgap(12);
        facts.setVgap(6);
        int row = 0;
        row = add(facts, row, "ONNX Runtime", info.engine().onnxRuntimeVersion() + "  (can run here: "
                + String.join(", ", info.providersHere()) + ")");
        row = add(facts, row, "Device", info.device().name() + " — " + info.device().reason());
        for (AboutInfo.Folder f : info.folders()) {
            row = add(facts, row, f.label(), f.path().toString());
        }

        TextArea notices = new TextArea(info.notices());
        notices.setEditable(false);
        notices.setWrapText(true);
        notices.setPrefRowCount(12);
        notices.setId("aboutNotices");
        VBox.setVgrow(notices, Priority.ALWAYS);

        Stage stage = new Stage();
        Button copy = new Button("Copy details");
        copy.setOnAction(e -> {
            ClipboardContent c = new ClipboardContent();
            c.putString(info.asText());
            Clipboard.getSystemClipboard().setContent(c);
        });
        Button close = new Button("Close");
        close.setDefaultButton(true);
        close.setCancelButton(true);
        close.setOnAction(e -> stage.close());
        Region grow = new Region();
        HBox.setHgrow(grow, Priority.ALWAYS);
        HBox buttons = new HBox(8, copy, grow, close);

        VBox root = new VBox(12, head, facts, new Label("Licences"), notices, buttons);
        root.setPadding(new Insets(16));
        stage.setTitle("About SD3 Studio");
        stage.getIcons().setAll(AppIcon.images());
        if (owner != null) {
            stage.initOwner(owner);
            stage.initModality(Modality.WINDOW_MODAL);
        }
        stage.setScene(new Scene(root, 640, 560));
        stage.show();
        return stage;
    }

    private static int add(GridPane grid, int row, String label, String value) {
        Label v = new Label(value);
        v.setWrapText(true);
        grid.addRow(row, new Label(label), v);
        return row + 1;
    }
}
