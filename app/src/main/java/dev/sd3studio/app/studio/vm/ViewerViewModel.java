package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.GalleryItem;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.collections.ListChangeListener;

import java.util.List;

/**
 * The large picture viewer over the gallery: one picture (or two side by side to compare), stepping
 * through the shown gallery items, fitted to the window or at 1:1.
 */
public final class ViewerViewModel {
    private final GalleryViewModel gallery;
    private final ObjectProperty<GalleryItem> current = new SimpleObjectProperty<>();
    private final ObjectProperty<GalleryItem> compared = new SimpleObjectProperty<>();
    private final BooleanProperty oneToOne = new SimpleBooleanProperty(false);
    private int lastIndex;

    ViewerViewModel(GalleryViewModel gallery) {
        this.gallery = gallery;
        // a picture deleted while shown: show its neighbour, or close when none is left
        gallery.shown().addListener((ListChangeListener<GalleryItem>) c -> {
            if (current.get() != null && !gallery.shown().contains(current.get())) {
                current.set(gallery.shown().isEmpty() ? null : gallery.shown().get(Math.min(lastIndex, gallery.shown().size() - 1)));
                compared.set(null);
            }
            if (compared.get() != null && !gallery.shown().contains(compared.get())) {
                compared.set(null);
            }
        });
        current.addListener((o, a, item) -> {
            int i = item == null ? -1 : gallery.shown().indexOf(item);
            if (i >= 0) {
                lastIndex = i;
            }
        });
    }

    /** The picture shown; null when the viewer is closed. */
    public ObjectProperty<GalleryItem> currentProperty() { return current; }
    /** The second picture beside it when comparing; null otherwise. */
    public ObjectProperty<GalleryItem> comparedProperty() { return compared; }
    /** Pixels at 1:1 (scrolling) instead of fitted to the window. */
    public BooleanProperty oneToOneProperty() { return oneToOne; }

    public boolean isOpen() {
        return current.get() != null;
    }

    public void open(GalleryItem item) {
        compared.set(null);
        current.set(item);
        gallery.selected().setAll(item);
    }

    /** Two pictures side by side; arrows then step the left one. */
    public void compare(GalleryItem left, GalleryItem right) {
        current.set(left);
        compared.set(right);
    }

    /** Compares the first two selected pictures; with one selected, opens it. */
    public void compareSelected() {
        List<GalleryItem> sel = List.copyOf(gallery.selected());
        if (sel.size() >= 2) {
            compare(sel.get(0), sel.get(1));
        } else if (sel.size() == 1) {
            open(sel.getFirst());
        }
    }

    /** The next (older) picture; stops at the end. */
    public void next() {
        step(1);
    }

    /** The previous (newer) picture; stops at the start. */
    public void previous() {
        step(-1);
    }

    private void step(int by) {
        List<GalleryItem> list = gallery.shown();
        int i = list.indexOf(current.get());
        int j = i + by;
        if (i >= 0 && j >= 0 && j < list.size()) {
            current.set(list.get(j));
            if (compared.get() == null) {
                gallery.selected().setAll(list.get(j));
            }
        }
    }

    public void toggleZoom() {
        oneToOne.set(!oneToOne.get());
    }

    /** Deletes the picture shown (undo brings it back); the viewer moves on to its neighbour. */
    public void deleteCurrent() {
        if (current.get() != null) {
            gallery.delete(List.of(current.get()));
        }
    }

    public void close() {
        compared.set(null);
        current.set(null);
    }
}
