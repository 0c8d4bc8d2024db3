package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.studio.vm.MaskEditorViewModel;
import dev.sd3studio.engine.api.RgbImage;
import javafx.beans.value.ObservableValue;
import javafx.scene.Cursor;
import javafx.scene.image.ImageView;
import javafx.scene.image.PixelFormat;
import javafx.scene.image.WritableImage;
import javafx.scene.input.KeyCode;
import javafx.scene.input.MouseEvent;
import javafx.scene.layout.StackPane;

/**
 * The start image, large, with the mask over it as a soft tint of what will be repainted, outlined in
 * black-and-white dashes so its edge shows over any colour; the mouse paints or erases in start-image pixels. Shown on the canvas while the mask is edited.
 */
final class MaskEditorView extends StackPane {
    /** Translucent warm red: clearly "this changes", the picture still readable underneath; the edge is drawn in dashes over it. */
    static final int TINT = 0x73ff4030;

    private final MaskEditorViewModel mask;
    private final ImageView base = new ImageView();
    private final ImageView overlay = new ImageView();
    private WritableImage tint;

    MaskEditorView(MaskEditorViewModel mask, ObservableValue<RgbImage> startImage) {
        this.mask = mask;
        setId("maskEditor");
        setFocusTraversable(true);
        setAccessibleText("Mask editor: paint over the start image where it should be repainted");
        for (ImageView v : new ImageView[] {base, overlay}) {
            v.setPreserveRatio(true);
            v.fitWidthProperty().bind(widthProperty().subtract(16));
            v.fitHeightProperty().bind(heightProperty().subtract(16));
        }
        base.setSmooth(true);
        overlay.setSmooth(false);
        overlay.setId("maskOverlay");
        overlay.setPickOnBounds(true);
        overlay.setCursor(Cursor.CROSSHAIR);
        getChildren().addAll(base, overlay);
        setMinSize(0, 0);
        startImage.addListener((o, a, img) -> base.setImage(img == null ? null : Images.toFx(img)));
        if (startImage.getValue() != null) {
            base.setImage(Images.toFx(startImage.getValue()));
        }
        mask.revisionProperty().addListener((o, a, b) -> redraw());
        redraw();
        overlay.setOnMousePressed(e -> {
            requestFocus();
            mask.beginStroke(imageX(e), imageY(e));
            e.consume();
        });
        overlay.setOnMouseDragged(e -> {
            mask.strokeTo(imageX(e), imageY(e));
            e.consume();
        });
        overlay.setOnMouseReleased(e -> mask.endStroke());
        overlay.setOnMouseClicked(MouseEvent::consume); // the canvas would take the focus, and with it Ctrl+Z
        setOnKeyPressed(e -> {
            if (e.isShortcutDown() && e.getCode() == KeyCode.Z) {
                mask.undo();
                e.consume();
            }
        });
    }

    private double imageX(MouseEvent e) {
        return e.getX() / overlay.getBoundsInLocal().getWidth() * mask.imageWidth();
    }

    private double imageY(MouseEvent e) {
        return e.getY() / overlay.getBoundsInLocal().getHeight() * mask.imageHeight();
    }

    private void redraw() {
        int w = mask.width();
        int h = mask.height();
        if (w == 0 || h == 0) {
            overlay.setImage(null);
            tint = null;
            return;
        }
        if (tint == null || tint.getWidth() != w || tint.getHeight() != h) {
            tint = new WritableImage(w, h);
            overlay.setImage(tint);
        }
        tint.getPixelWriter().setPixels(0, 0, w, h, PixelFormat.getIntArgbInstance(), mask.overlay(TINT), 0, w);
    }
}
