package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.BuiltInModel;
import dev.sd3studio.app.settings.Settings;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.vm.AboutInfo;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.ScrollPane;
import javafx.scene.control.SplitPane;
import javafx.scene.input.KeyCode;
import javafx.scene.input.KeyCodeCombination;
import javafx.scene.input.KeyCombination;
import javafx.scene.input.KeyEvent;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.StackPane;
import javafx.scene.layout.VBox;
import javafx.stage.Screen;
import javafx.stage.Stage;

/**
 * The main window: editor on the left, canvas in the middle, gallery on the right. Restores and
 * records the window layout through the view-model; Ctrl+Enter generates, Esc cancels.
 */
public final class StudioWindow {
    private final StudioViewModel vm;
    private final CanvasView canvas;
    private final SplitPane split;

    private StudioWindow(StudioViewModel vm) {
        this.vm = vm;
        VBox editor = new VBox(12, new PromptView(vm.prompt()), new ParametersView(vm), new LoraPanel(vm.loras()));
        editor.setPadding(new Insets(10));
        ScrollPane left = new ScrollPane(editor);
        left.setFitToWidth(true);
        left.setId("editorScroll");
        canvas = new CanvasView(vm);
        canvas.setPadding(new Insets(10));
        // a start image with the mask tools makes this column taller than a small window: it scrolls, where a
        // split slot would centre it and cut off both the picture and the progress below
        ScrollPane middle = new ScrollPane(canvas);
        middle.setFitToWidth(true);
        middle.setFitToHeight(true);
        middle.setId("canvasScroll");
        GalleryView gallery = new GalleryView(vm);
        gallery.setPadding(new Insets(10));
        split = new SplitPane(left, middle, gallery);
        split.setId("split");
        left.setMinWidth(260);
        // the canvas column must not claim its children's widths, or the split squeezes the editor
        middle.setMinWidth(240); // at 800 px the gallery and the editor give way first, not the picture
        middle.setPrefWidth(400);
        canvas.setMinWidth(0);
        gallery.setPrefWidth(300);
        gallery.setMinWidth(200);
    }

    /** Builds the window into {@code stage} and shows it; closing the stage closes the view-model. */
    public static StudioWindow show(Stage stage, StudioViewModel vm) {
        StudioWindow w = new StudioWindow(vm);
        Theme.follow(vm.settings().themeProperty());
        BorderPane main = new BorderPane(w.split);
        // the banner sits in the flow under the header: it pushes the columns down rather than covering the
        // prompt header (Undo/Redo/History) or the gallery filter; only the viewer lies over the window
        MessageBar banner = new MessageBar(vm);
        banner.setId("banner");
        VBox.setMargin(banner, new Insets(0, 12, 6, 12));
        main.setTop(new VBox(w.header(), banner));
        StackPane root = new StackPane(main, new ViewerView(vm));
        Settings.Window s = vm.settings().windowProperty().get();
        WindowPlacement place = WindowPlacement.fit(s,
                Screen.getScreens().stream().map(Screen::getVisualBounds).toList(), Screen.getPrimary().getVisualBounds());
        Scene scene = new Scene(root, place.width(), place.height());
        scene.getStylesheets().add(StudioWindow.class.getResource("/dev/sd3studio/app/studio.css").toExternalForm());
        // filters, not accelerators: text areas would otherwise swallow Enter and Esc first
        KeyCodeCombination generate = new KeyCodeCombination(KeyCode.ENTER, KeyCombination.SHORTCUT_DOWN);
        scene.addEventFilter(KeyEvent.KEY_PRESSED, e -> {
            if (generate.match(e)) {
                Controls.commitFocused(scene);
                vm.generation().generate();
                e.consume();
            } else if (e.getCode() == KeyCode.ESCAPE && vm.generation().runningProperty().get() != null) {
                vm.generation().cancel();
                e.consume();
            }
        });
        stage.setTitle("SD3 Studio");
        stage.setScene(scene);
        stage.setX(place.x());
        stage.setY(place.y());
        stage.setMaximized(s.maximized());
        w.split.setDividerPositions(s.leftDivider(), s.rightDivider());
        stage.setOnHidden(e -> {
            w.remember(stage);
            vm.close();
        });
        stage.show();
        // a prompt tool starts with the cursor in the prompt (without this, focus lands on its Undo button)
        javafx.scene.Node prompt = scene.lookup("#prompt");
        if (prompt != null) {
            prompt.requestFocus();
        }
        return w;
    }

    /** Records the layout into the view-model (saved with the settings). */
    public void remember(Stage stage) {
        double[] d = split.getDividerPositions();
        vm.settings().windowProperty().set(new Settings.Window(stage.getX(), stage.getY(), stage.getScene().getWidth(),
                stage.getScene().getHeight(), stage.isMaximized(), d[0], d.length > 1 ? d[1] : 0.75));
    }

    /** For tests: a drop onto the canvas. */
    public void dropFiles(java.util.List<java.io.File> files) {
        canvas.handleFiles(files);
    }

    private HBox header() {
        Label title = new Label("SD3 Studio");
        title.getStyleClass().add("title-3");
        ComboBox<String> theme = Controls.describe(new ComboBox<>(), "theme", "Light, dark, or follow the system setting");
        theme.getItems().setAll("system", "light", "dark");
        theme.valueProperty().bindBidirectional(vm.settings().themeProperty());
        Region grow = new Region();
        HBox.setHgrow(grow, Priority.ALWAYS);
        Button about = Controls.describe(new Button("About"), "about", "Version, device, data folders and licences");
        about.setOnAction(e -> AboutDialog.show(about.getScene().getWindow(), AboutInfo.collect(AppDirs.detect(),
                vm.parameters(), vm.gallery().folder(), BuiltInModel.find())));
        HBox h = new HBox(8, title, grow, Controls.label("Theme", theme), theme, about);
        h.setAlignment(Pos.CENTER_LEFT);
        h.setPadding(new Insets(8, 12, 8, 12));
        return h;
    }
}
