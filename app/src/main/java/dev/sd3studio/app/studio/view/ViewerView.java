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
    private final Pane left;
    private final Pane right;

    ViewerView(StudioViewModel studio) {
        this.vm = studio.viewer();
        setId("viewer");
        setStyle("-fx-background-color: -color-bg-default;");
        setPadding(new Insets(8));
        left = new Pane(vm, true);
        right = new Pane(vm, false);
        HBox pictures = new HBox(8, left.box, right.box);
        HBox.setHgrow(left.box, Priority.ALWAYS);
        HBox.setHgrow(right.box, Priority.ALWAYS);
        right.box.visibleProperty().bind(vm.comparedProperty().isNotNull());
        right.box.managedProperty().bind(right.box.visibleProperty());
        setCenter(pictures);
        for (Pane p : new Pane[] {left, right}) {
            p.item.addListener((o, a, b) -> {
                p.load();
                layoutPictures();
            });
            javafx.beans.InvalidationListener resized = o -> {
                if (!vm.oneToOneProperty().get() && vm.currentProperty().get() != null) {
                    layoutPictures();
                }
            };
            p.fit.widthProperty().addListener(resized);
            p.fit.heightProperty().addListener(resized);
            p.load();
        }
        vm.oneToOneProperty().addListener((o, a, b) -> layoutPictures());
        layoutPictures();

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

    /**
     * Fits both pictures at one scale (image pixels to screen pixels), so a compare shows them alike:
     * the scale that fits the larger picture into its half, each picture top-aligned in its half.
     */
    private void layoutPictures() {
        boolean comparing = vm.comparedProperty().get() != null;
        double scale = Double.MAX_VALUE;
        for (Pane p : comparing ? java.util.List.of(left, right) : java.util.List.of(left)) {
            if (p.image != null && p.image.getWidth() > 0 && p.image.getHeight() > 0) {
                scale = Math.min(scale, Math.min((p.fit.getWidth() - 4) / p.image.getWidth(),
                        (p.fit.getHeight() - 4) / p.image.getHeight()));
            }
        }
        for (Pane p : java.util.List.of(left, right)) {
            p.fit.setAlignment(comparing ? Pos.TOP_CENTER : Pos.CENTER);
            p.apply(vm.oneToOneProperty().get(), scale == Double.MAX_VALUE ? 0 : Math.max(0, scale));
        }
    }

    /** One picture with its caption: fitted (nearest-neighbour when enlarged) or 1:1 in a scroll pane. */
    private static final class Pane {
        final VBox box;
        final StackPane fit;
        final ImageView view = new ImageView();
        final ScrollPane actual = new ScrollPane();
        /** Holds the picture at 1:1: stretched to the viewport, never below the picture's own size. */
        final StackPane centred = new StackPane();
        final Label caption = new Label();
        final javafx.beans.property.ObjectProperty<GalleryItem> item;
        /** The picture as saved, before any enlargement; null when this side is empty. */
        Image image;

        Pane(ViewerViewModel vm, boolean first) {
            item = first ? vm.currentProperty() : vm.comparedProperty();
            view.setId(first ? "viewerImage" : "viewerImage2");
            view.setPreserveRatio(true);
            fit = new StackPane(view);
            // The picture's size follows the pane's (one scale for both halves), so the pane must not
            // follow the picture's: no preferred size of its own, and nothing drawn outside it.
            fit.setMinSize(0, 0);
            fit.setPrefSize(0, 0);
            javafx.scene.shape.Rectangle bounds = new javafx.scene.shape.Rectangle();
            bounds.widthProperty().bind(fit.widthProperty());
            bounds.heightProperty().bind(fit.heightProperty());
            fit.setClip(bounds);
            actual.setPannable(true);
            // actual pixels: a picture smaller than the window sits in its middle, a larger one scrolls
            // (the holder is stretched to the viewport but never below the picture's own size)
            actual.setFitToWidth(true);
            actual.setFitToHeight(true);
            StackPane area = new StackPane(fit, actual);
            area.setMinSize(0, 0);
            VBox.setVgrow(area, Priority.ALWAYS);
            caption.setId(first ? "viewerCaption" : "viewerCaption2");
            caption.setWrapText(true);
            // The parameters are what a compare is read for: the picture area (no size of its own, see
            // fit) takes only what the wrapped caption leaves. Not a pref-sized minimum: with the halves'
            // preferred width 0 that minimum is the caption wrapped at zero width, thousands of pixels
            // tall, which pushed the whole viewer out of the window.
            box = new VBox(6, area, caption);
            box.setMinWidth(0);
            box.setPrefWidth(0); // both halves grow from zero alike, so they are equal whatever the captions
            // enlarged small pictures stay crisp; shrunk large ones are smoothed
            view.smoothProperty().bind(Bindings.createBooleanBinding(() -> view.getImage() != null
                    && view.getBoundsInLocal().getWidth() < view.getImage().getWidth(), view.imageProperty(), view.boundsInLocalProperty()));
        }

        /** Loads the picture and its caption when the item changed. */
        void load() {
            GalleryItem i = item.get();
            image = i == null ? null : new Image(i.file().toUri().toString());
            caption.setText(i == null ? "" : captionOf(i));
        }

        /** Shows the picture at 1:1, or fitted at {@code scale} screen pixels per image pixel. */
        void apply(boolean oneToOne, double scale) {
            if (oneToOne) {
                view.setFitWidth(0);
                view.setFitHeight(0);
                fit.getChildren().clear();
                centred.getChildren().setAll(view);
                actual.setContent(centred);
                view.setImage(image);
            } else {
                actual.setContent(null);
                fit.getChildren().setAll(view);
                // fitted: enlarged by a whole factor with nearest-neighbour first, so pixels stay square
                view.setImage(image == null ? null : Images.nearest(image, Math.max(1, (int) Math.floor(scale))));
                view.setFitWidth(image == null ? 0 : image.getWidth() * scale);
                view.setFitHeight(image == null ? 0 : image.getHeight() * scale);
            }
            actual.setVisible(oneToOne);
            fit.setVisible(!oneToOne);
        }

        private static String captionOf(GalleryItem i) {
            String badge = GalleryView.badge(i.parameters());
            return i.summary() + (badge.isEmpty() ? "" : " · " + badge) + "\n" + GalleryViewModel.parametersText(i)
                    .replace("\n", "  ");
        }
    }
}
