package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.MaskCodec;
import dev.sd3studio.app.studio.task.TaskRunner;
import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.RgbImage;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyBooleanWrapper;
import javafx.beans.property.ReadOnlyDoubleProperty;
import javafx.beans.property.ReadOnlyDoubleWrapper;
import javafx.beans.property.ReadOnlyIntegerProperty;
import javafx.beans.property.ReadOnlyIntegerWrapper;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleObjectProperty;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The inpainting mask painted over the start image: brush and eraser with a size, clear, invert,
 * undo, or a mask picture loaded from a file. White (1) = repaint. Coordinates are the start
 * image's pixels; the mask itself is kept at most {@link #MAX_SIDE} pixels on its longer side
 * (the engine resizes it to the output anyway), so undo snapshots stay small.
 */
public final class MaskEditorViewModel {
    public enum Tool { BRUSH, ERASER }

    static final int MAX_SIDE = 1024;
    static final int UNDO_DEPTH = 30;
    /** Proportions may differ this much (relative) before a loaded mask is refused, as the engine does. */
    private static final double ASPECT_TOLERANCE = 0.02;

    private final TaskRunner runner;
    private final Consumer<UserMessage> messages;
    private final ObjectProperty<Tool> tool = new SimpleObjectProperty<>(Tool.BRUSH);
    /** Brush diameter in start-image pixels. */
    private final DoubleProperty brushSize = new SimpleDoubleProperty(24);
    private final ReadOnlyDoubleWrapper maxBrushSize = new ReadOnlyDoubleWrapper(512);
    private final BooleanProperty editing = new SimpleBooleanProperty(false);
    private final BooleanProperty keepUnmasked = new SimpleBooleanProperty(false);
    private final ReadOnlyIntegerWrapper revision = new ReadOnlyIntegerWrapper();
    private final ReadOnlyDoubleWrapper coverage = new ReadOnlyDoubleWrapper();
    private final ReadOnlyBooleanWrapper canUndo = new ReadOnlyBooleanWrapper();
    private final Deque<byte[]> undo = new ArrayDeque<>();
    private int imageWidth;
    private int imageHeight;
    private int width;
    private int height;
    private byte[] bits = new byte[0];
    private double lastX = Double.NaN;
    private double lastY = Double.NaN;

    public MaskEditorViewModel(TaskRunner runner, Consumer<UserMessage> messages) {
        this.runner = runner;
        this.messages = messages;
    }

    public ObjectProperty<Tool> toolProperty() { return tool; }
    public DoubleProperty brushSizeProperty() { return brushSize; }
    /** The largest useful brush for this start image: half its longer side. */
    public ReadOnlyDoubleProperty maxBrushSizeProperty() { return maxBrushSize.getReadOnlyProperty(); }
    /** The canvas shows the start image with the mask to paint on. */
    public BooleanProperty editingProperty() { return editing; }
    /** Paste the start image back outside the mask after decoding (off, as in the reference). */
    public BooleanProperty keepUnmaskedProperty() { return keepUnmasked; }
    /** Increases on every change of the mask, for views to redraw. */
    public ReadOnlyIntegerProperty revisionProperty() { return revision.getReadOnlyProperty(); }
    /** Share of the picture that will be repainted, 0..1. */
    public ReadOnlyDoubleProperty coverageProperty() { return coverage.getReadOnlyProperty(); }
    public ReadOnlyBooleanProperty canUndoProperty() { return canUndo.getReadOnlyProperty(); }

    public int width() { return width; }
    public int height() { return height; }
    public int imageWidth() { return imageWidth; }
    public int imageHeight() { return imageHeight; }

    /** A new start image (or none: 0 × 0): an empty mask of its proportions, no undo history. */
    public void reset(int imageWidth, int imageHeight) {
        this.imageWidth = imageWidth;
        this.imageHeight = imageHeight;
        double s = Math.min(1.0, (double) MAX_SIDE / Math.max(1, Math.max(imageWidth, imageHeight)));
        width = imageWidth <= 0 ? 0 : Math.max(1, (int) Math.round(imageWidth * s));
        height = imageHeight <= 0 ? 0 : Math.max(1, (int) Math.round(imageHeight * s));
        bits = new byte[width * height];
        undo.clear();
        if (imageWidth <= 0) {
            editing.set(false);
        }
        maxBrushSize.set(Math.max(8, Math.max(imageWidth, imageHeight) / 2.0));
        brushSize.set(Math.max(4, Math.round(Math.max(imageWidth, imageHeight) / 10.0)));
        changed();
    }

    public boolean isSet(int x, int y) {
        return bits[y * width + x] != 0;
    }

    /** Starts a brush or eraser stroke at an image point; one undo step per stroke. */
    public void beginStroke(double x, double y) {
        if (bits.length == 0) {
            return;
        }
        snapshot();
        lastX = x;
        lastY = y;
        paintSegment(x, y, x, y);
    }

    /** Continues the stroke to an image point (a line of round dabs, so fast drags leave no gaps). */
    public void strokeTo(double x, double y) {
        if (bits.length == 0 || Double.isNaN(lastX)) {
            return;
        }
        paintSegment(lastX, lastY, x, y);
        lastX = x;
        lastY = y;
    }

    public void endStroke() {
        lastX = Double.NaN;
        lastY = Double.NaN;
    }

    public void clear() {
        if (bits.length > 0) {
            snapshot();
            java.util.Arrays.fill(bits, (byte) 0);
            changed();
        }
    }

    public void invert() {
        if (bits.length > 0) {
            snapshot();
            for (int i = 0; i < bits.length; i++) {
                bits[i] = (byte) (1 - bits[i]);
            }
            changed();
        }
    }

    public void undo() {
        if (!undo.isEmpty()) {
            bits = undo.pop();
            changed();
        }
    }

    /**
     * A mask picture (white = repaint, grey 128 and up counts as white, as in the engine) fitted to
     * the start image; other proportions are refused with a message, since stretching would move
     * what it marks.
     */
    public void load(RgbImage mask) {
        if (bits.length == 0) {
            throw new IllegalStateException("Drop a start image first, then its mask.");
        }
        double want = (double) imageWidth / imageHeight;
        double got = (double) mask.width() / mask.height();
        if (Math.abs(got / want - 1) > ASPECT_TOLERANCE) {
            throw new IllegalArgumentException("That mask is " + mask.width() + "x" + mask.height()
                    + " but the start image is " + imageWidth + "x" + imageHeight
                    + "; use a mask drawn for this picture (same proportions).");
        }
        snapshot();
        for (int y = 0; y < height; y++) {
            int sy = Math.min(mask.height() - 1, (int) ((y + 0.5) * mask.height() / height));
            for (int x = 0; x < width; x++) {
                int sx = Math.min(mask.width() - 1, (int) ((x + 0.5) * mask.width() / width));
                int rgb = mask.argb(sx, sy);
                int grey = (((rgb >> 16) & 0xff) * 19595 + ((rgb >> 8) & 0xff) * 38470 + (rgb & 0xff) * 7471
                        + 0x8000) >> 16;
                bits[y * width + x] = (byte) (grey >= 128 ? 1 : 0);
            }
        }
        changed();
    }

    /** A dropped or chosen mask file, read off the UI thread; problems become a message. */
    public void loadFile(Path file) {
        runner.run("load-mask", () -> Sd3Engine.loadImage(file), mask -> {
            try {
                load(mask);
                editing.set(true);
                messages.accept(UserMessage.info("Mask loaded from " + file.getFileName() + ": white is repainted."));
            } catch (IllegalArgumentException | IllegalStateException e) {
                messages.accept(UserMessage.warning(e.getMessage()));
            }
        }, e -> messages.accept(ErrorMessages.of(e)));
    }

    /**
     * What a picture's parameters say about its mask: the mask itself (null when there is none or it
     * cannot be used) or the reason it cannot be used (null when there is none).
     */
    public record StoredMask(boolean keepUnmasked, RgbImage mask, String problem) {
    }

    /**
     * The mask a picture's parameters recorded ({@code mask}, {@code keep_unmasked}), put back over
     * the current start image so the picture can be made again; without a fitting start image it says
     * so. The mask is decoded off the UI thread.
     */
    public void restore(Map<String, String> parameters) {
        int w = imageWidth;
        int h = imageHeight;
        runner.run("load-mask", () -> readStored(parameters, w, h), this::restore, e -> messages.accept(ErrorMessages.of(e)));
    }

    /**
     * Off the UI thread: the stored mask of a picture for a start image of {@code imageWidth} ×
     * {@code imageHeight} (0 × 0: none, then nothing is decoded). A stored mask has the picture's
     * output size, which may exceed a small start image, so it may be as large as the larger of the
     * start image and the picture's recorded size, and never beyond {@link MaskCodec#MAX_SIDE}: the
     * value comes from a file anyone can make, and a few KB of PNG can declare gigabytes of pixels.
     */
    static StoredMask readStored(Map<String, String> parameters, int imageWidth, int imageHeight) {
        boolean keep = Boolean.parseBoolean(parameters.getOrDefault("keep_unmasked", "false"));
        String stored = parameters.get("mask");
        if (stored == null) {
            return new StoredMask(keep, null, null);
        }
        if (imageWidth <= 0 || imageHeight <= 0) {
            return new StoredMask(keep, null, "That picture was inpainted: drop its start image, then load"
                    + " its parameters again to get its mask back.");
        }
        int maxWidth = Math.max(imageWidth, Math.min(recorded(parameters, "width"), MaskCodec.MAX_SIDE));
        int maxHeight = Math.max(imageHeight, Math.min(recorded(parameters, "height"), MaskCodec.MAX_SIDE));
        try {
            return new StoredMask(keep, MaskCodec.decode(stored, maxWidth, maxHeight), null);
        } catch (IOException e) {
            return new StoredMask(keep, null, "The picture's stored mask could not be used: " + e.getMessage() + ".");
        }
    }

    private static int recorded(Map<String, String> parameters, String key) {
        try {
            return Integer.parseInt(parameters.getOrDefault(key, "0").strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** On the UI thread: puts a mask read by {@link #readStored} over the start image, or says why it cannot. */
    public void restore(StoredMask stored) {
        keepUnmasked.set(stored.keepUnmasked());
        if (stored.problem() != null) {
            messages.accept(UserMessage.warning(stored.problem()));
            return;
        }
        if (stored.mask() == null) {
            return;
        }
        try {
            load(stored.mask());
            editing.set(true);
        } catch (IllegalArgumentException | IllegalStateException e) {
            messages.accept(UserMessage.warning("The picture's stored mask could not be used: " + e.getMessage()));
        }
    }

    /** The mask for the request: white = repaint; null when nothing is painted (then it is image-to-image). */
    public RgbImage toImage() {
        if (coverage.get() == 0) {
            return null;
        }
        float[] rgb = new float[width * height * 3];
        for (int i = 0; i < bits.length; i++) {
            float v = bits[i];
            rgb[3 * i] = v;
            rgb[3 * i + 1] = v;
            rgb[3 * i + 2] = v;
        }
        return new RgbImage(width, height, rgb);
    }

    /**
     * The overlay as ARGB pixels at mask size: {@code argb} where the mask repaints, transparent
     * elsewhere, and the mask's edge drawn as black-and-white dashes ("marching ants"), so the
     * outline shows over any colour, a tint of the same hue included. The edge is about 1/256 of
     * the longer side thick (at least a pixel), so it stays visible when a large mask is shown small.
     */
    public int[] overlay(int argb) {
        int[] out = new int[bits.length];
        int t = Math.max(1, Math.max(width, height) / 256);
        int dash = 3 * t;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = y * width + x;
                if (bits[i] == 0) {
                    continue;
                }
                out[i] = nearUnmasked(x, y, t) ? (((x + y) / dash) % 2 == 0 ? EDGE_DARK : EDGE_LIGHT) : argb;
            }
        }
        return out;
    }

    /** Opaque black and white: one of the two contrasts with whatever lies under the edge. */
    public static final int EDGE_DARK = 0xff000000;
    public static final int EDGE_LIGHT = 0xffffffff;

    /** An unmasked pixel within {@code t} steps left, right, up or down (the picture's border does not count). */
    private boolean nearUnmasked(int x, int y, int t) {
        for (int d = 1; d <= t; d++) {
            if (x - d >= 0 && bits[y * width + x - d] == 0 || x + d < width && bits[y * width + x + d] == 0
                    || y - d >= 0 && bits[(y - d) * width + x] == 0 || y + d < height && bits[(y + d) * width + x] == 0) {
                return true;
            }
        }
        return false;
    }

    private void paintSegment(double x0, double y0, double x1, double y1) {
        double s = (double) width / imageWidth;
        double r = Math.max(0.5, brushSize.get() * s / 2);
        double ax = x0 * s;
        double ay = y0 * s;
        double bx = x1 * s;
        double by = y1 * s;
        byte value = (byte) (tool.get() == Tool.BRUSH ? 1 : 0);
        int minX = Math.max(0, (int) Math.floor(Math.min(ax, bx) - r));
        int maxX = Math.min(width - 1, (int) Math.ceil(Math.max(ax, bx) + r));
        int minY = Math.max(0, (int) Math.floor(Math.min(ay, by) - r));
        int maxY = Math.min(height - 1, (int) Math.ceil(Math.max(ay, by) + r));
        double dx = bx - ax;
        double dy = by - ay;
        double len2 = dx * dx + dy * dy;
        for (int y = minY; y <= maxY; y++) {
            for (int x = minX; x <= maxX; x++) {
                double px = x + 0.5;
                double py = y + 0.5;
                double t = len2 == 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
                double ex = px - (ax + t * dx);
                double ey = py - (ay + t * dy);
                if (ex * ex + ey * ey <= r * r) {
                    bits[y * width + x] = value;
                }
            }
        }
        changed();
    }

    private void snapshot() {
        undo.push(bits.clone());
        while (undo.size() > UNDO_DEPTH) {
            undo.removeLast();
        }
    }

    private void changed() {
        int n = 0;
        for (byte b : bits) {
            n += b;
        }
        coverage.set(bits.length == 0 ? 0 : (double) n / bits.length);
        canUndo.set(!undo.isEmpty());
        revision.set(revision.get() + 1);
    }
}
