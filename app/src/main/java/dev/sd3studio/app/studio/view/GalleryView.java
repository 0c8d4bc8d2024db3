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
import javafx.scene.control.ScrollPane;
import javafx.scene.control.MenuItem;
import javafx.scene.control.Slider;
import javafx.scene.control.TextField;
import javafx.scene.control.TitledPane;
import javafx.scene.control.Tooltip;
import javafx.scene.image.Image;
import javafx.scene.image.ImageView;
import javafx.scene.input.Clipboard;
import javafx.scene.input.ClipboardContent;
import javafx.scene.input.KeyCode;
import javafx.scene.input.KeyEvent;
import javafx.scene.input.MouseButton;
import javafx.scene.layout.StackPane;
import javafx.scene.layout.TilePane;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Node;
import javafx.scene.layout.ColumnConstraints;
import javafx.scene.layout.FlowPane;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.stage.DirectoryChooser;

import java.awt.Desktop;
import java.io.File;
import java.io.IOException;

/**
 * Thumbnails newest first as a grid, filtered by prompt text; a click selects, a double click (or Enter)
 * opens the large viewer, Ctrl/Shift+click selects several (two: "View" becomes "Compare"), arrows move
 * as the grid is drawn, Delete deletes with undo (Ctrl+Z); actions and the export panel below.
 */
final class GalleryView extends VBox {
    static final double TILE = 96;

    private final StudioViewModel studio;
    private final GalleryViewModel vm;
    private final TilePane grid = new TilePane(4, 4);
    private final java.util.Map<GalleryItem, Node> tiles = new java.util.HashMap<>();
    private GalleryItem anchor;

    GalleryView(StudioViewModel studio) {
        super(6);
        this.studio = studio;
        this.vm = studio.gallery();
        grid.setId("gallery");
        grid.setPrefTileWidth(TILE);
        grid.setPrefTileHeight(TILE);
        grid.setPadding(new Insets(2));
        grid.setFocusTraversable(true);
        grid.setAccessibleText("Everything generated, newest first");
        vm.shown().addListener((ListChangeListener<GalleryItem>) c -> rebuild());
        vm.selected().addListener((ListChangeListener<GalleryItem>) c -> markSelection());
        rebuild();
        ScrollPane scroll = new ScrollPane(grid);
        scroll.setFitToWidth(true);
        scroll.setId("galleryScroll");
        scroll.setMinHeight(TILE + 8);
        Label empty = new Label("No pictures yet.");
        empty.getStyleClass().add("text-muted");
        empty.visibleProperty().bind(Bindings.isEmpty(vm.shown()));
        empty.textProperty().bind(Bindings.when(vm.filterProperty().isEmpty()).then("No pictures yet.")
                .otherwise("No picture's prompt contains that text."));
        StackPane gridArea = new StackPane(scroll, empty);
        VBox.setVgrow(gridArea, Priority.ALWAYS);
        grid.setOnKeyPressed(this::keys);
        grid.setOnMouseClicked(e -> grid.requestFocus());

        TextField filter = Controls.describe(new TextField(), "galleryFilter", "Show only pictures whose prompt contains this text");
        filter.setPromptText("Filter by prompt…");
        filter.textProperty().bindBidirectional(vm.filterProperty());

        Button reuse = action("Reuse", "reuseParameters", "Load this picture's parameters into the editor (makes it again)", () ->
                one().ifPresent(i -> studio.imports().loadParameters(i.parameters())));
        Button init = action("Start from", "useAsInit", "Use this picture as the start image (image-to-image)", () ->
                one().ifPresent(studio.imports()::useAsInit));
        Button view = action("View", "openViewer", "Open the picture large (Enter); with two selected, compare them side by side",
                () -> studio.viewer().compareSelected());
        Button copy = action("Copy", "copyImage", "Copy the picture to the clipboard", () -> one().ifPresent(i -> {
            ClipboardContent c = new ClipboardContent();
            c.putImage(new Image(i.file().toUri().toString()));
            c.putFiles(java.util.List.of(i.file().toFile()));
            c.putString(GalleryViewModel.parametersText(i));
            Clipboard.getSystemClipboard().setContent(c);
        }));
        Button reveal = action("Reveal", "reveal", "Show the file in the file manager", () -> one().ifPresent(this::reveal));
        Button delete = action("Delete", "delete", "Delete the selected pictures (Delete key; can be undone)", vm::deleteSelected);
        Button undo = action("Undo delete", "undoDelete", "Bring back the pictures deleted last (Ctrl+Z)", vm::undoDelete);
        undo.disableProperty().bind(vm.canUndoDeleteProperty().not());
        for (Button b : new Button[] {reuse, init, view, copy, reveal, delete}) {
            b.disableProperty().bind(Bindings.isEmpty(vm.selected()));
        }
        // with two selected (Ctrl+click) the same button compares them: say so where the user looks
        view.textProperty().bind(Bindings.when(Bindings.size(vm.selected()).isEqualTo(2)).then("Compare").otherwise("View"));
        FlowPane actions = new FlowPane(6, 6, view, reuse, init, copy, reveal, delete, undo);
        ContextMenu menu = new ContextMenu();
        for (Button b : new Button[] {view, reuse, init, copy, reveal, delete}) {
            MenuItem m = new MenuItem(b.getText());
            m.setOnAction(e -> b.fire());
            menu.getItems().add(m);
        }
        grid.setOnContextMenuRequested(e -> menu.show(grid, e.getScreenX(), e.getScreenY()));

        TitledPane export = new TitledPane("Export", exportPanel(vm));
        export.setId("exportPane");
        export.setExpanded(false);
        export.setAnimated(false);
        export.getStyleClass().add(atlantafx.base.theme.Styles.DENSE); // half the padding: this column can be 200 px
        export.setAccessibleText("Export the selected pictures");
        Label title = new Label("Gallery");
        title.getStyleClass().add("title-4");
        title.setMinHeight(Region.USE_PREF_SIZE);
        // the title keeps its own row; the rest scrolls when the column is shorter than its content
        // (Export open at 800×600 or at 200 %), instead of pushing the title up over the header
        VBox body = new VBox(6, filter, gridArea, actions, export);
        ScrollPane column = new ScrollPane(body);
        column.setId("galleryColumn");
        column.setFitToWidth(true);
        column.setFitToHeight(true); // the grid takes the spare height; below the content's minimum, it scrolls
        column.setHbarPolicy(ScrollPane.ScrollBarPolicy.NEVER);
        VBox.setVgrow(column, Priority.ALWAYS);
        export.expandedProperty().addListener((o, was, open) -> {
            if (open) { // what was opened comes into view: the export panel is the column's last part
                javafx.application.Platform.runLater(() -> {
                    column.layout(); // the opened panel's height first, or the scroll stops short of it
                    column.setVvalue(column.getVmax());
                });
            }
        });
        getChildren().addAll(title, column);
    }

    /** Tiles are kept per picture, so a new picture or a filter change loads no thumbnail twice. */
    private void rebuild() {
        java.util.Map<GalleryItem, Node> next = new java.util.HashMap<>();
        for (GalleryItem i : vm.items()) {
            Node t = tiles.get(i);
            if (t != null) {
                next.put(i, t);
            }
        }
        tiles.clear();
        tiles.putAll(next);
        grid.getChildren().setAll(vm.shown().stream().map(i -> tiles.computeIfAbsent(i, this::tile)).toList());
        markSelection();
    }

    private Node tile(GalleryItem item) {
        ImageView view = new ImageView(new Image(item.file().toUri().toString(), TILE * 2, TILE * 2, true, true, true));
        view.setFitWidth(TILE - 6);
        view.setFitHeight(TILE - 6);
        view.setPreserveRatio(true);
        StackPane tile = new StackPane(view);
        tile.setUserData(item);
        tile.getStyleClass().add("gallery-tile");
        tile.setPrefSize(TILE, TILE);
        String badge = badge(item.parameters());
        if (!badge.isEmpty()) {
            Label b = new Label(badge);
            b.getStyleClass().add("gallery-badge");
            b.setStyle("-fx-background-color: -color-bg-default; -fx-background-radius: 3; -fx-padding: 0 3 0 3;"
                    + " -fx-font-size: 0.8em; -fx-opacity: 0.9;");
            StackPane.setAlignment(b, Pos.BOTTOM_LEFT);
            tile.getChildren().add(b);
        }
        Tooltip.install(tile, new Tooltip(item.summary() + "\n\n" + GalleryViewModel.parametersText(item)));
        tile.setAccessibleText(item.summary() + (badge.isEmpty() ? "" : ", " + badge));
        tile.setOnMouseClicked(e -> {
            grid.requestFocus();
            if (e.getButton() != MouseButton.PRIMARY) {
                if (!vm.selected().contains(item)) {
                    vm.selected().setAll(item);
                }
                return;
            }
            if (e.isShortcutDown()) {
                if (!vm.selected().remove(item)) {
                    vm.selected().add(item);
                }
                anchor = item;
            } else if (e.isShiftDown() && anchor != null) {
                selectRange(anchor, item);
            } else if (e.getClickCount() >= 2) {
                vm.selected().setAll(item);
                anchor = item;
                studio.viewer().open(item);
            } else {
                // a click only selects: picking a picture to Reuse, Start from or Export opens nothing
                vm.selected().setAll(item);
                anchor = item;
            }
            e.consume();
        });
        return tile;
    }

    /** "img2img" and "3/4" (its place in a batch): what the thumbnail alone cannot tell. */
    static String badge(java.util.Map<String, String> p) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        if (dev.sd3studio.app.gallery.PngMetadata.isImageToImage(p)) {
            parts.add("img2img");
        }
        String size = p.getOrDefault("batch_size", "1");
        if (!size.equals("1") && p.containsKey("batch_index")) {
            try {
                parts.add((Integer.parseInt(p.get("batch_index")) + 1) + "/" + size);
            } catch (NumberFormatException ignored) {
                // a hand-edited file: no badge
            }
        }
        return String.join(" · ", parts);
    }

    private void selectRange(GalleryItem from, GalleryItem to) {
        int a = vm.shown().indexOf(from);
        int b = vm.shown().indexOf(to);
        if (a < 0 || b < 0) {
            vm.selected().setAll(to);
            return;
        }
        vm.selected().setAll(vm.shown().subList(Math.min(a, b), Math.max(a, b) + 1));
    }

    /** Tiles per row as the grid lays them out now (the first row's tiles share its top), so ↓ goes straight down. */
    private int columns() {
        var children = grid.getChildren();
        if (children.isEmpty()) {
            return 1;
        }
        double top = children.getFirst().getLayoutY();
        int n = 0;
        while (n < children.size() && Math.abs(children.get(n).getLayoutY() - top) < 1) {
            n++;
        }
        return Math.max(1, n);
    }

    private void markSelection() {
        for (Node n : grid.getChildren()) {
            boolean on = vm.selected().contains((GalleryItem) n.getUserData());
            n.setStyle(on ? "-fx-border-color: -color-accent-emphasis; -fx-border-width: 3; -fx-background-color: -color-accent-subtle;"
                    : "-fx-border-color: transparent; -fx-border-width: 3;");
        }
    }

    /** Arrows move the selection through the grid, Enter opens it, Delete deletes, Ctrl+Z undoes. */
    private void keys(KeyEvent e) {
        java.util.List<GalleryItem> list = vm.shown();
        if (list.isEmpty()) {
            return;
        }
        int i = one().map(list::indexOf).orElse(-1);
        int j = switch (e.getCode()) {
            case RIGHT -> i + 1;
            case LEFT -> i - 1;
            case DOWN -> i + columns();
            case UP -> i - columns();
            case HOME -> 0;
            case END -> list.size() - 1;
            default -> Integer.MIN_VALUE;
        };
        if (j != Integer.MIN_VALUE) {
            GalleryItem next = list.get(Math.clamp(j, 0, list.size() - 1));
            vm.selected().setAll(next);
            anchor = next;
            e.consume();
        } else if (e.getCode() == KeyCode.ENTER && !vm.selected().isEmpty()) {
            studio.viewer().compareSelected();
            e.consume();
        } else if (e.getCode() == KeyCode.DELETE) {
            vm.deleteSelected();
            e.consume();
        } else if (e.getCode() == KeyCode.Z && e.isShortcutDown()) {
            vm.undoDelete();
            e.consume();
        }
    }

    private GridPane exportPanel(GalleryViewModel vm) {
        ComboBox<ExportFormat> format = Controls.describe(new ComboBox<>(), "exportFormat",
                "File format: PNG keeps every pixel; JPEG is smaller" + (vm.formats().contains(ExportFormat.WEBP) ? "; WebP too" : " (WebP is not available in this Java runtime)"));
        format.getItems().setAll(vm.formats());
        format.valueProperty().bindBidirectional(vm.exportFormatProperty());
        Slider quality = Controls.describe(new Slider(0.1, 1, vm.exportQualityProperty().get()), "exportQuality",
                "Quality for JPEG/WebP: higher is larger and closer to the original");
        quality.valueProperty().bindBidirectional(vm.exportQualityProperty());
        quality.disableProperty().bind(Bindings.createBooleanBinding(
                () -> vm.exportFormatProperty().get() == null || !vm.exportFormatProperty().get().lossy(), vm.exportFormatProperty()));
        CheckBox meta = Controls.describe(new CheckBox("Include parameters"), "exportMetadata",
                "Embed the prompt and settings (PNG text chunks \"parameters\" and \"sd3studio\"; JPEG comment)");
        meta.selectedProperty().bindBidirectional(vm.exportMetadataProperty());
        TextField folder = Controls.describe(new TextField(), "exportFolder", "The folder the files are written to");
        folder.textProperty().bindBidirectional(vm.exportFolderProperty());
        Button browse = action("Browse…", "exportBrowse", "Choose the export folder", () -> {
            DirectoryChooser chooser = new DirectoryChooser();
            File dir = chooser.showDialog(getScene().getWindow());
            if (dir != null) {
                vm.exportFolderProperty().set(dir.getAbsolutePath());
            }
        });
        Button go = action("Export", "exportGo", "Write the selected pictures (all when none is selected)", vm::exportSelected);
        go.getStyleClass().add(atlantafx.base.theme.Styles.ACCENT);
        format.setMaxWidth(Double.MAX_VALUE);
        // the closed list names the format alone ("PNG", not "PNG (loss…" in the narrow column at 200 %)
        format.setButtonCell(new javafx.scene.control.ListCell<>() {
            @Override
            protected void updateItem(ExportFormat f, boolean empty) {
                super.updateItem(f, empty);
                setText(empty || f == null ? null : f.name());
            }
        });
        folder.setPrefColumnCount(8);
        // labels in their own column at their whole width, the fields take what is left, and the
        // folder gets the whole width of its own row: nothing is cut to "F…" in a 200 px column (and
        // nothing wraps, which a grid would not make room for)
        GridPane grid = new GridPane(6, 6);
        ColumnConstraints labels = new ColumnConstraints();
        labels.setMinWidth(Region.USE_PREF_SIZE);
        ColumnConstraints fields = new ColumnConstraints();
        fields.setHgrow(Priority.ALWAYS);
        fields.setFillWidth(true);
        fields.setMinWidth(0);
        grid.getColumnConstraints().addAll(labels, fields);
        grid.addRow(0, Controls.label("Format", format), format);
        grid.addRow(1, Controls.label("Quality", quality), quality);
        grid.add(meta, 0, 2, 2, 1);
        grid.addRow(3, Controls.label("Folder", folder), browse);
        grid.add(folder, 0, 4, 2, 1);
        grid.add(go, 0, 5, 2, 1);
        return grid;
    }

    private java.util.Optional<GalleryItem> one() {
        return vm.selected().isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(vm.selected().getLast());
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
}
