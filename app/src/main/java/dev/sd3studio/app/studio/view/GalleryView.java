package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.gallery.ExportFormat;
import dev.sd3studio.app.gallery.GalleryItem;
import dev.sd3studio.app.studio.vm.GalleryViewModel;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.beans.binding.Bindings;
import javafx.collections.ListChangeListener;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.ComboBox;
import javafx.scene.control.ContextMenu;
import javafx.scene.control.Label;
import javafx.scene.control.ListCell;
import javafx.scene.control.ListView;
import javafx.scene.control.MenuItem;
import javafx.scene.control.SelectionMode;
import javafx.scene.control.Slider;
import javafx.scene.control.TextField;
import javafx.scene.control.TitledPane;
import javafx.scene.control.Tooltip;
import javafx.scene.image.Image;
import javafx.scene.image.ImageView;
import javafx.scene.input.Clipboard;
import javafx.scene.input.ClipboardContent;
import javafx.scene.input.KeyCode;
import javafx.scene.layout.FlowPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;
import javafx.stage.DirectoryChooser;

import java.awt.Desktop;
import java.io.File;
import java.io.IOException;

/** Thumbnails newest first, the actions on the selection, and the export panel. */
final class GalleryView extends VBox {
    private final StudioViewModel studio;
    private final ListView<GalleryItem> list;

    GalleryView(StudioViewModel studio) {
        super(6);
        this.studio = studio;
        GalleryViewModel vm = studio.gallery();
        list = Controls.describe(new ListView<>(vm.items()), "gallery",
                "Everything generated, newest first; select several with Ctrl or Shift");
        list.getSelectionModel().setSelectionMode(SelectionMode.MULTIPLE);
        list.getSelectionModel().getSelectedItems().addListener((ListChangeListener<GalleryItem>) c ->
                vm.selected().setAll(list.getSelectionModel().getSelectedItems().stream().filter(java.util.Objects::nonNull).toList()));
        list.setPlaceholder(new Label("No pictures yet."));
        list.setCellFactory(l -> new ThumbnailCell());
        list.setOnKeyPressed(e -> {
            if (e.getCode() == KeyCode.DELETE) {
                vm.deleteSelected();
            }
        });
        VBox.setVgrow(list, Priority.ALWAYS);

        Button reuse = action("Reuse", "reuseParameters", "Load this picture's parameters into the editor", () ->
                one().ifPresent(i -> studio.imports().loadParameters(i.parameters())));
        Button init = action("Start from", "useAsInit", "Use this picture as the start image (image-to-image)", () ->
                one().ifPresent(studio.imports()::useAsInit));
        Button copy = action("Copy", "copyImage", "Copy the picture to the clipboard", () -> one().ifPresent(i -> {
            ClipboardContent c = new ClipboardContent();
            c.putImage(new Image(i.file().toUri().toString()));
            c.putFiles(java.util.List.of(i.file().toFile()));
            c.putString(GalleryViewModel.parametersText(i));
            Clipboard.getSystemClipboard().setContent(c);
        }));
        Button reveal = action("Reveal", "reveal", "Show the file in the file manager", () -> one().ifPresent(this::reveal));
        Button delete = action("Delete", "delete", "Delete the selected pictures (Delete key; can be undone)", vm::deleteSelected);
        Button undo = action("Undo delete", "undoDelete", "Bring back the pictures deleted last", vm::undoDelete);
        undo.disableProperty().bind(vm.canUndoDeleteProperty().not());
        for (Button b : new Button[] {reuse, init, copy, reveal, delete}) {
            b.disableProperty().bind(Bindings.isEmpty(vm.selected()));
        }
        FlowPane actions = new FlowPane(6, 6, reuse, init, copy, reveal, delete, undo);
        ContextMenu menu = new ContextMenu();
        for (Button b : new Button[] {reuse, init, copy, reveal, delete}) {
            MenuItem m = new MenuItem(b.getText());
            m.setOnAction(e -> b.fire());
            menu.getItems().add(m);
        }
        list.setContextMenu(menu);

        TitledPane export = new TitledPane("Export", exportPanel(vm));
        export.setId("exportPane");
        export.setExpanded(false);
        export.setAnimated(false);
        export.setAccessibleText("Export the selected pictures");
        Label title = new Label("Gallery");
        title.getStyleClass().add("title-4");
        getChildren().addAll(title, list, actions, export);
    }

    private VBox exportPanel(GalleryViewModel vm) {
        ComboBox<ExportFormat> format = Controls.describe(new ComboBox<>(), "exportFormat",
                "File format: PNG keeps every pixel; JPEG is smaller" + (vm.formats().contains(ExportFormat.WEBP) ? "; WebP too" : " (WebP is not available in this Java runtime)"));
        format.getItems().setAll(vm.formats());
        format.valueProperty().bindBidirectional(vm.exportFormatProperty());
        Slider quality = Controls.describe(new Slider(0.1, 1, vm.exportQualityProperty().get()), "exportQuality",
                "Quality for JPEG/WebP: higher is larger and closer to the original");
        quality.valueProperty().bindBidirectional(vm.exportQualityProperty());
        quality.disableProperty().bind(Bindings.createBooleanBinding(
                () -> vm.exportFormatProperty().get() == null || !vm.exportFormatProperty().get().lossy(), vm.exportFormatProperty()));
        HBox.setHgrow(quality, Priority.ALWAYS);
        CheckBox meta = Controls.describe(new CheckBox("Include parameters"), "exportMetadata",
                "Embed the prompt and settings (PNG text chunks \"parameters\" and \"sd3studio\"; JPEG comment)");
        meta.selectedProperty().bindBidirectional(vm.exportMetadataProperty());
        TextField folder = Controls.describe(new TextField(), "exportFolder", "The folder the files are written to");
        folder.textProperty().bindBidirectional(vm.exportFolderProperty());
        HBox.setHgrow(folder, Priority.ALWAYS);
        Button browse = action("Browse…", "exportBrowse", "Choose the export folder", () -> {
            DirectoryChooser chooser = new DirectoryChooser();
            File dir = chooser.showDialog(getScene().getWindow());
            if (dir != null) {
                vm.exportFolderProperty().set(dir.getAbsolutePath());
            }
        });
        Button go = action("Export", "exportGo", "Write the selected pictures (all when none is selected)", vm::exportSelected);
        go.getStyleClass().add(atlantafx.base.theme.Styles.ACCENT);
        return new VBox(6, new HBox(6, Controls.label("Format", format), format),
                new HBox(6, Controls.label("Quality", quality), quality), meta,
                new HBox(6, folder, browse), go);
    }

    private java.util.Optional<GalleryItem> one() {
        return java.util.Optional.ofNullable(list.getSelectionModel().getSelectedItem());
    }

    private static Button action(String text, String id, String tip, Runnable r) {
        Button b = Controls.describe(new Button(text), id, tip);
        b.setOnAction(e -> r.run());
        return b;
    }

    private void reveal(GalleryItem item) {
        // Desktop may be missing (headless, some Linux desktops); xdg-open on the folder is the fallback
        try {
            if (Desktop.isDesktopSupported() && Desktop.getDesktop().isSupported(Desktop.Action.BROWSE_FILE_DIR)) {
                Desktop.getDesktop().browseFileDirectory(item.file().toFile());
            } else {
                new ProcessBuilder(System.getProperty("os.name").toLowerCase().contains("win")
                        ? new String[] {"explorer", "/select,", item.file().toString()}
                        : new String[] {"xdg-open", item.file().getParent().toString()}).start();
            }
        } catch (IOException | RuntimeException e) {
            studio.messageProperty().set(dev.sd3studio.app.studio.vm.UserMessage.warning(
                    "Could not open the file manager; the file is " + item.file()));
        }
    }

    /** A thumbnail loaded in the background by JavaFX, with the prompt and size beside it. */
    private static final class ThumbnailCell extends ListCell<GalleryItem> {
        private final ImageView view = new ImageView();

        ThumbnailCell() {
            view.setFitWidth(72);
            view.setFitHeight(72);
            view.setPreserveRatio(true);
            setGraphicTextGap(8);
            setWrapText(true);
            setPrefWidth(0);
        }

        @Override
        protected void updateItem(GalleryItem item, boolean empty) {
            super.updateItem(item, empty);
            if (empty || item == null) {
                setGraphic(null);
                setText(null);
                setTooltip(null);
                return;
            }
            view.setImage(new Image(item.file().toUri().toString(), 144, 144, true, true, true));
            setGraphic(view);
            setText(item.prompt() + "\n" + item.parameters().getOrDefault("width", "?") + "×"
                    + item.parameters().getOrDefault("height", "?") + " · seed " + item.parameters().getOrDefault("seed", "?"));
            setTooltip(new Tooltip(GalleryViewModel.parametersText(item)));
            setAccessibleText(item.summary());
        }
    }
}
