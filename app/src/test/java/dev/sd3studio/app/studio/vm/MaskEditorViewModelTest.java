package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.studio.task.DirectTaskRunner;
import dev.sd3studio.engine.api.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The mask editor without a toolkit: brush, eraser, clear, invert, undo, loading a mask file. */
class MaskEditorViewModelTest {
    private final List<UserMessage> messages = new ArrayList<>();

    private MaskEditorViewModel editor(int w, int h) {
        MaskEditorViewModel m = new MaskEditorViewModel(new DirectTaskRunner(), messages::add);
        m.reset(w, h);
        return m;
    }

    @Test
    void brushPaintsARoundDabOfItsSize() {
        MaskEditorViewModel m = editor(64, 64);
        m.brushSizeProperty().set(10);
        m.beginStroke(32, 32);
        m.endStroke();
        assertTrue(m.isSet(32, 32));
        assertTrue(m.isSet(28, 32) && m.isSet(32, 36));
        assertFalse(m.isSet(38, 32), "outside the radius of 5");
        assertFalse(m.isSet(36, 36), "the corner of the square is not painted");
        double area = Math.PI * 25 / (64 * 64);
        assertEquals(area, m.coverageProperty().get(), area * 0.2);
    }

    @Test
    void aFastDragLeavesNoGaps() {
        MaskEditorViewModel m = editor(100, 20);
        m.brushSizeProperty().set(4);
        m.beginStroke(5, 10);
        m.strokeTo(95, 10);
        m.endStroke();
        for (int x = 5; x < 95; x++) {
            assertTrue(m.isSet(x, 10), "x " + x);
        }
        assertFalse(m.isSet(50, 16));
    }

    @Test
    void eraserClearsWhatTheBrushPainted() {
        MaskEditorViewModel m = editor(64, 64);
        m.brushSizeProperty().set(20);
        m.beginStroke(32, 32);
        m.endStroke();
        m.toolProperty().set(MaskEditorViewModel.Tool.ERASER);
        m.brushSizeProperty().set(4);
        m.beginStroke(32, 32);
        m.endStroke();
        assertFalse(m.isSet(32, 32));
        assertTrue(m.isSet(32, 40), "the rest of the dab stays");
    }

    @Test
    void invertClearAndUndoEachAStep() {
        MaskEditorViewModel m = editor(32, 16);
        assertFalse(m.canUndoProperty().get());
        assertNull(m.toImage(), "nothing painted: no mask, plain image-to-image");
        m.invert();
        assertEquals(1.0, m.coverageProperty().get());
        m.brushSizeProperty().set(6);
        m.toolProperty().set(MaskEditorViewModel.Tool.ERASER);
        m.beginStroke(16, 8);
        m.endStroke();
        double afterErase = m.coverageProperty().get();
        assertTrue(afterErase < 1.0);
        m.clear();
        assertEquals(0.0, m.coverageProperty().get());
        m.undo();
        assertEquals(afterErase, m.coverageProperty().get());
        m.undo();
        assertEquals(1.0, m.coverageProperty().get());
        m.undo();
        assertEquals(0.0, m.coverageProperty().get());
        assertFalse(m.canUndoProperty().get());
    }

    @Test
    void theRequestMaskIsWhiteWherePaintedAtTheImageProportions() {
        MaskEditorViewModel m = editor(3000, 2000);
        assertEquals(1024, m.width());
        assertEquals(683, m.height());
        m.brushSizeProperty().set(300);
        m.beginStroke(1500, 1000);
        m.endStroke();
        RgbImage mask = m.toImage();
        assertEquals(1024, mask.width());
        assertEquals(0xffffffff, mask.argb(512, 341));
        assertEquals(0xff000000, mask.argb(10, 10));
    }

    @Test
    void aMaskFileIsFittedOrRefusedWhenItsProportionsDiffer() {
        MaskEditorViewModel m = editor(64, 32);
        float[] rgb = new float[128 * 64 * 3];
        for (int y = 0; y < 64; y++) {
            for (int x = 64; x < 128; x++) {
                int i = (y * 128 + x) * 3;
                rgb[i] = rgb[i + 1] = rgb[i + 2] = 0.6f; // light grey counts as white
            }
        }
        m.load(new RgbImage(128, 64, rgb));
        assertEquals(0.5, m.coverageProperty().get());
        assertTrue(m.isSet(40, 10) && !m.isSet(20, 10));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.load(new RgbImage(10, 10, new float[300])));
        assertTrue(e.getMessage().contains("10x10") && e.getMessage().contains("64x32"), e.getMessage());
        m.undo();
        assertEquals(0.0, m.coverageProperty().get());
    }

    @Test
    void theOverlayOutlinesTheMaskInContrastingDashesSoItShowsOverAnyColour() {
        MaskEditorViewModel m = editor(64, 64);
        m.brushSizeProperty().set(20);
        m.beginStroke(32, 32);
        m.endStroke();
        int tint = 0x73ff4030; // the studio's warm red, over a red picture: a tint alone barely shows
        int[] overlay = m.overlay(tint);
        int red = 0xffff0000;
        int strongest = 0;
        boolean dark = false;
        boolean light = false;
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                int over = over(overlay[y * 64 + x], red);
                strongest = Math.max(strongest, distance(over, red));
                dark |= overlay[y * 64 + x] == MaskEditorViewModel.EDGE_DARK;
                light |= overlay[y * 64 + x] == MaskEditorViewModel.EDGE_LIGHT;
                if (overlay[y * 64 + x] == MaskEditorViewModel.EDGE_DARK || overlay[y * 64 + x] == MaskEditorViewModel.EDGE_LIGHT) {
                    assertTrue(m.isSet(x, y), "the outline lies on the mask's own edge");
                }
            }
        }
        assertTrue(strongest >= 200, "some overlay pixel stands out from red: " + strongest);
        assertTrue(dark && light, "two tones, so one contrasts with any colour");
        assertEquals(tint, overlay[32 * 64 + 32], "the inside keeps the soft tint");
        assertEquals(0, overlay[5 * 64 + 5], "outside is clear");
        int left = 0;
        while (!m.isSet(left, 32)) {
            left++;
        }
        int edge = overlay[32 * 64 + left]; // the dab's leftmost pixel on its middle row
        assertTrue(edge == MaskEditorViewModel.EDGE_DARK || edge == MaskEditorViewModel.EDGE_LIGHT, Integer.toHexString(edge));
    }

    /** {@code top} (ARGB, straight alpha) over an opaque {@code under}. */
    private static int over(int top, int under) {
        double a = (top >>> 24) / 255.0;
        int out = 0xff000000;
        for (int shift = 0; shift <= 16; shift += 8) {
            int c = (int) Math.round(((top >> shift) & 0xff) * a + ((under >> shift) & 0xff) * (1 - a));
            out |= c << shift;
        }
        return out;
    }

    /** The largest channel difference. */
    private static int distance(int p, int q) {
        int d = 0;
        for (int shift = 0; shift <= 16; shift += 8) {
            d = Math.max(d, Math.abs(((p >> shift) & 0xff) - ((q >> shift) & 0xff)));
        }
        return d;
    }

    @Test
    void aNewStartImageStartsAnEmptyMask() {
        MaskEditorViewModel m = editor(64, 64);
        m.invert();
        m.reset(96, 64);
        assertEquals(96, m.width());
        assertEquals(0.0, m.coverageProperty().get());
        assertFalse(m.canUndoProperty().get());
        int[] overlay = m.overlay(0x80ff0000);
        assertEquals(96 * 64, overlay.length);
        assertEquals(0, overlay[0]);
    }

    @Test
    void aDroppedMaskFileLoadsOrSaysWhatIsWrong(@TempDir Path tmp) throws Exception {
        MaskEditorViewModel m = editor(64, 64);
        BufferedImage png = new BufferedImage(128, 128, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 128; y++) {
            for (int x = 0; x < 64; x++) {
                png.getRaster().setSample(x, y, 0, 255);
            }
        }
        Path file = tmp.resolve("mask.png");
        ImageIO.write(png, "png", file.toFile());
        m.loadFile(file);
        assertEquals(0.5, m.coverageProperty().get());
        assertTrue(m.editingProperty().get());
        Path text = tmp.resolve("notes.png");
        Files.writeString(text, "not a picture");
        m.loadFile(text);
        UserMessage last = messages.get(messages.size() - 1);
        assertEquals(UserMessage.Severity.ERROR, last.severity());
        assertTrue(last.text().contains("not a picture"), last.text());
        assertEquals(0.5, m.coverageProperty().get(), "the mask is kept");
    }

    @Test
    void aPicturesStoredMaskComesBackOverTheStartImage() {
        MaskEditorViewModel m = editor(64, 64);
        m.brushSizeProperty().set(16);
        m.beginStroke(20, 20);
        m.endStroke();
        String stored = dev.sd3studio.app.gallery.MaskCodec.encode(m.toImage());
        double painted = m.coverageProperty().get();
        m.clear();
        m.restore(java.util.Map.of("mask", stored, "keep_unmasked", "true"));
        assertEquals(painted, m.coverageProperty().get(), 1e-9);
        assertTrue(m.isSet(20, 20) && m.keepUnmaskedProperty().get() && m.editingProperty().get());

        MaskEditorViewModel none = editor(0, 0);
        none.restore(java.util.Map.of("mask", stored));
        assertTrue(messages.getLast().text().contains("drop its start image"), messages.getLast().text());
        m.restore(java.util.Map.of("prompt", "no mask here"));
        assertFalse(m.keepUnmaskedProperty().get());
        assertEquals(painted, m.coverageProperty().get(), 1e-9, "a picture without a mask leaves the mask alone");
    }

    @Test
    void aMaskBombInAPicturesParametersIsRefusedQuicklyWithoutDecodingIt() {
        MaskEditorViewModel m = editor(64, 64);
        String bomb = dev.sd3studio.app.gallery.MaskBombs.blackMask(16000, 16000);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long allocated = threads.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        m.restore(java.util.Map.of("mask", bomb, "width", "64", "height", "64"));
        long ms = (System.nanoTime() - start) / 1_000_000;
        long mb = (threads.getCurrentThreadAllocatedBytes() - allocated) >> 20;
        UserMessage last = messages.getLast();
        assertEquals(UserMessage.Severity.WARNING, last.severity());
        assertTrue(last.text().contains("16000x16000") && last.text().contains("64x64"), last.text());
        assertTrue(ms < 1000, ms + " ms");
        assertTrue(mb < 16, mb + " MB allocated");
        assertEquals(0.0, m.coverageProperty().get());

        messages.clear();
        m.restore(java.util.Map.of("mask", bomb, "width", "16000", "height", "16000"));
        assertTrue(messages.getLast().text().contains("at most 4096x4096"),
                "a picture's recorded size cannot lift the bound past the engine's largest: " + messages.getLast().text());
    }
}
