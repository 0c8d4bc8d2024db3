package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.gallery.GalleryItem;
import dev.sd3studio.app.studio.vm.GalleryViewModel;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import dev.sd3studio.app.studio.vm.ViewerViewModel;
import javafx.beans.binding.Bindings;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.ScrollPane;
import javafx.scene.control.ToggleButton;
import javafx.scene.image.Image;
import javafx.scene.image.ImageView;
import javafx.scene.input.KeyCode;
import javafx.scene.input.KeyEvent;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.StackPane;
import javafx.scene.layout.VBox;

/**
 * The large viewer, laid over the window: one picture fitted or at 1:1 (small pictures scaled up
 * with nearest-neighbour, so pixels stay sharp), or two side by side. Arrows step, Esc closes,
 * 1 / F switch zoom, Delete deletes (undo in the gallery).
 */
final class ViewerView extends BorderPane {
    private final ViewerViewModel vm;

    ViewerView(StudioViewModel studio) {
        this.vm = studio.viewer();
        setId("viewer");
        setStyle("-fx-background-color: -color-bg-default;");
        setPadding(new Insets(8));
        Pane left = new Pane(vm, true);
        Pane right = new Pane(vm, false);
        HBox pictures = new HBox(8, left.box, right.box);
        HBox.setHgrow(left.box, Priority.ALWAYS);
        HBox.setHgrow(right.box, Priority.ALWAYS);
        right.box.visibleProperty().bind(vm.comparedProperty().isNotNull());
        right.box.managedProperty().bind(right.box.visibleProperty());
        setCenter(pictures);

        Button prev = Controls.describe(new Button("◀"), "viewerPrevious", "Newer picture (Left arrow)");
        prev.setOnAction(e -> vm.previous());
        Button next = Controls.describe(new Button("▶"), "viewerNext", "Older picture (Right arrow)");
        next.setOnAction(e -> vm.next());
        ToggleButton oneToOne = Controls.describe(new ToggleButton("1:1"), "viewerOneToOne",
                "Actual pixels (1) or fitted to the window (F)");
        oneToOne.selectedProperty().bindBidirectional(vm.oneToOneProperty());
        Button reuse = Controls.describe(new Button("Reuse"), "viewerReuse", "Load this picture's parameters (makes it again)");
        reuse.setOnAction(e -> {
            studio.imports().loadParameters(vm.currentProperty().get().parameters());
            vm.close();
        });
        Button delete = Controls.describe(new Button("Delete"), "viewerDelete", "Delete this picture (Delete; undo in the gallery)");
        delete.setOnAction(e -> vm.deleteCurrent());
        Button close = Controls.describe(new Button("Close"), "viewerClose", "Back to the studio (Esc)");
        close.setOnAction(e -> vm.close());
        Region grow = new Region();
        HBox.setHgrow(grow, Priority.ALWAYS);
        HBox bar = new HBox(6, prev, next, oneToOne, grow, reuse, delete, close);
        bar.setAlignment(Pos.CENTER_LEFT);
        bar.setPadding(new Insets(0, 0, 8, 0));
        setTop(bar);

        visibleProperty().bind(vm.currentProperty().isNotNull());
        managedProperty().bind(visibleProperty());
        vm.currentProperty().addListener((o, a, item) -> {
            if (item != null && a == null) {
                requestFocus();
            } else if (item == null && getScene() != null && getScene().lookup("#gallery") != null) {
                getScene().lookup("#gallery").requestFocus(); // back where the viewer was opened from
            }
        });
        setFocusTraversable(true);
        addEventFilter(KeyEvent.KEY_PRESSED, this::keys);
    }

    private void keys(KeyEvent e) {
        KeyCode k = e.getCode();
        if (k == KeyCode.RIGHT || k == KeyCode.PAGE_DOWN) {
            vm.next();
        } else if (k == KeyCode.LEFT || k == KeyCode.PAGE_UP) {
            vm.previous();
        } else if (k == KeyCode.ESCAPE) {
            vm.close();
        } else if (k == KeyCode.DIGIT1 || k == KeyCode.NUMPAD1) {
            vm.oneToOneProperty().set(true);
        } else if (k == KeyCode.F || k == KeyCode.DIGIT0) {
            vm.oneToOneProperty().set(false);
        } else if (k == KeyCode.DELETE) {
            vm.deleteCurrent();
        } else {
            return;
        }
        e.consume();
    }

    /** One picture with its caption: fitted (nearest-neighbour when enlarged) or 1:1 in a scroll pane. */
    private static final class Pane {
        final VBox box;

        Pane(ViewerViewModel vm, boolean first) {
            var item = first ? vm.currentProperty() : vm.comparedProperty();
            ImageView view = new ImageView();
            view.setId(first ? "viewerImage" : "viewerImage2");
            view.setPreserveRatio(true);
            StackPane fit = new StackPane(view);
            fit.setMinSize(0, 0);
            ScrollPane actual = new ScrollPane();
            actual.setPannable(true);
            // actual pixels: a picture smaller than the window sits in its middle, a larger one scrolls
            // (the holder is stretched to the viewport but never below the picture's own size)
            StackPane centred = new StackPane();
            actual.setFitToWidth(true);
            actual.setFitToHeight(true);
            StackPane area = new StackPane(fit, actual);
            area.setMinSize(0, 0);
            VBox.setVgrow(area, Priority.ALWAYS);
            Label caption = new Label();
            caption.setId(first ? "viewerCaption" : "viewerCaption2");
            caption.setWrapText(true);
            caption.setMaxHeight(60);
            box = new VBox(6, area, caption);
            box.setMinWidth(0);
            Runnable layout = () -> {
                GalleryItem i = item.get();
                Image img = i == null ? null : new Image(i.file().toUri().toString());
                boolean oneToOne = vm.oneToOneProperty().get();
                view.fitWidthProperty().unbind();
                view.fitHeightProperty().unbind();
                if (oneToOne) {
                    view.setFitWidth(0);
                    view.setFitHeight(0);
                    fit.getChildren().clear();
                    actual.setContent(centred);
                    centred.getChildren().setAll(view);
                } else {
                    actual.setContent(null);
                    fit.getChildren().setAll(view);
                    view.fitWidthProperty().bind(fit.widthProperty().subtract(4));
                    view.fitHeightProperty().bind(fit.heightProperty().subtract(4));
                }
                actual.setVisible(oneToOne);
                fit.setVisible(!oneToOne);
                // fitted: enlarged by a whole factor with nearest-neighbour first, so pixels stay square
                view.setImage(oneToOne ? img : Images.nearest(img, Images.factor(img, fit.getWidth(), fit.getHeight())));
                caption.setText(i == null ? "" : captionOf(i));
            };
            // enlarged small pictures stay crisp; shrunk large ones are smoothed
            view.smoothProperty().bind(Bindings.createBooleanBinding(() -> view.getImage() != null
                    && view.getBoundsInLocal().getWidth() < view.getImage().getWidth(), view.imageProperty(), view.boundsInLocalProperty()));
            item.addListener((o, a, b) -> layout.run());
            javafx.beans.InvalidationListener resized = o -> {
                if (!vm.oneToOneProperty().get() && item.get() != null) {
                    layout.run();
                }
            };
            fit.widthProperty().addListener(resized);
            fit.heightProperty().addListener(resized);
            vm.oneToOneProperty().addListener((o, a, b) -> layout.run());
            layout.run();
        }

        private static String captionOf(GalleryItem i) {
            String badge = GalleryView.badge(i.parameters());
            return i.summary() + (badge.isEmpty() ? "" : " · " + badge) + "\n" + GalleryViewModel.parametersText(i)
                    .replace("\n", "  ");
        }
    }
}
