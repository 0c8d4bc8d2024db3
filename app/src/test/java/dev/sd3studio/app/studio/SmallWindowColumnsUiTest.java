package dev.sd3studio.app.studio;

import dev.sd3studio.engine.api.RgbImage;
import javafx.geometry.Bounds;
import javafx.scene.Node;
import javafx.scene.Parent;
import javafx.scene.control.Control;
import javafx.scene.control.Label;
import javafx.scene.control.Labeled;
import javafx.scene.control.ScrollPane;
import javafx.scene.control.TitledPane;
import javafx.scene.control.ToggleButton;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;
import java.nio.file.Path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gallery column with Export open, and the middle column with a start image and the mask tools, at the
 * 800×600 minimum and at 200 % scaling. JavaFX lays out
 * in logical pixels and Monocle's headless screen has no scale of its own, so 200 % is its logical
 * size: a 1600×1200 screen at 200 % is 800×600, and the window inside it 800×560 (what the review
 * measured).
 */
@ExtendWith(ApplicationExtension.class)
class SmallWindowColumnsUiTest {
    @TempDir
    static Path tmp;
    private Stage stage;
    private FakeStudio studio;

    @Start
    void start(Stage stage) throws Exception {
        studio = FakeStudio.show(stage, tmp, new FakeFactory());
        this.stage = stage;
    }

    @AfterEach
    void tearDown(FxRobot robot) {
        studio.close(robot);
    }

    @ParameterizedTest(name = "{2}")
    @CsvSource({"800, 600, the 800×600 minimum", "800, 560, 200 % on a 1600×1200 screen"})
    void everyExportControlIsWholeAndReachableAndTheTitleKeepsItsRow(int width, int height, String what, FxRobot robot) {
        showAt(robot, width, height, () -> {
            // the gallery column at its narrowest, as a dragged divider (or a cramped window) leaves it
            robot.lookup("#split").queryAs(javafx.scene.control.SplitPane.class).setDividerPositions(0.3, 1.0);
            robot.lookup("#exportPane").queryAs(TitledPane.class).setExpanded(true);
        });
        Node go = robot.lookup("#exportGo").query();
        Bounds opened = go.localToScene(go.getBoundsInLocal());
        assertTrue(within(opened, 0, 0, stage.getScene().getWidth(), stage.getScene().getHeight()),
                "opening Export brings its button into view at " + what + ": " + opened);
        for (String id : new String[] {"#galleryFilter", "#openViewer", "#reuseParameters", "#delete", "#undoDelete", "#exportFormat", "#exportQuality", "#exportMetadata",
                "#exportFolder", "#exportBrowse", "#exportGo"}) {
            assertWholeAndReachable(robot, id, what, true);
        }
        for (String text : new String[] {"Format", "Quality", "Folder"}) {
            Label l = robot.lookup(".label").match(node -> node instanceof Label lb && text.equals(lb.getText()))
                    .queryAs(Label.class);
            assertNotNull(l, "a label " + text);
            assertEquals(text, shownText(l), "the label reads " + text + " at " + what);
        }
        var folder = robot.lookup("#exportFolder").queryAs(javafx.scene.control.TextField.class);
        assertTrue(folder.getWidth() >= 150, "the folder field shows more than a few characters at " + what
                + ": " + folder.getWidth() + " px");

        Label title = robot.lookup(".label").match(node -> node instanceof Label lb && "Gallery".equals(lb.getText()))
                .queryAs(Label.class);
        Node theme = robot.lookup("#theme").query();
        Bounds t = title.localToScene(title.getBoundsInLocal());
        Bounds header = theme.getParent().localToScene(theme.getParent().getBoundsInLocal());
        assertFalse(t.intersects(header), "the Gallery title " + t + " stays out of the header " + header + " at " + what);
        assertEquals("Gallery", shownText(title));
    }

    /**
     * The middle column is taller than the window there. It used to be centred in its split slot, so its top (the
     * picture) and its bottom (progress, status, queue) were cut off with no way to reach them.
     */
    @ParameterizedTest(name = "{2}")
    @CsvSource({"800, 600, the 800×600 minimum", "800, 560, 200 % on a 1600×1200 screen"})
    void everyCanvasControlIsReachableWithAStartImageAndTheMaskTools(int width, int height, String what, FxRobot robot) {
        showAt(robot, width, height,
                () -> studio.vm.imports().setInitImage(new RgbImage(64, 64, new float[64 * 64 * 3]), "start.png"));
        robot.interact(() -> robot.lookup("#maskEdit").queryAs(ToggleButton.class).setSelected(true));
        WaitForAsyncUtils.waitForFxEvents();
        for (String id : new String[] {"#canvas", "#removeInit", "#strength", "#maskEdit", "#maskTools", "#maskKeep",
                "#maskCoverage", "#generate", "#cancel", "#paste", "#progress", "#status"}) {
            assertWholeAndReachable(robot, id, what, true);
        }
        assertWholeAndReachable(robot, "#queue", what, false); // the queue gives way first, by design, to 44 px
    }

    /**
     * The editor column at its narrowest (the split's minimum) needs no sideways scrolling. The grid's label column
     * (90 px) and the "Drop T5 encoder" check box made it 11 px wider than the column, which then scrolled sideways
     * and cut the seed row at its right edge; the per-encoder prompts' title (then "Prompts per encoder") read
     * "Prompts per enc…".
     */
    @ParameterizedTest(name = "{2}")
    @CsvSource({"800, 600, the 800×600 minimum", "800, 560, 200 % on a 1600×1200 screen"})
    void theEditorColumnFitsItsWidthWithoutScrollingSideways(int width, int height, String what, FxRobot robot) {
        showAt(robot, width, height,
                () -> robot.lookup("#split").queryAs(javafx.scene.control.SplitPane.class).setDividerPositions(0.0, 0.7));
        ScrollPane editor = robot.lookup("#editorScroll").queryAs(ScrollPane.class);
        robot.interact(editor::layout);
        double content = editor.getContent().getLayoutBounds().getWidth();
        double view = editor.getViewportBounds().getWidth();
        assertTrue(content <= view + 0.5, "the editor (" + content + " px) fits its column (" + view + " px) at " + what);
        for (String id : new String[] {"#prompt", "#model", "#randomSeed", "#seed", "#reuseSeed", "#copySeed",
                "#width", "#height", "#steps", "#guidance", "#offload", "#dropT5"}) {
            assertWholeAndReachable(robot, id, what, true);
        }
        for (String id : new String[] {"#width", "#height"}) {
            var editorField = robot.lookup(id).queryAs(javafx.scene.control.Spinner.class).getEditor();
            javafx.scene.text.Text fourDigits = new javafx.scene.text.Text("4096");
            fourDigits.setFont(editorField.getFont());
            double room = editorField.getWidth() - editorField.getInsets().getLeft() - editorField.getInsets().getRight();
            assertTrue(fourDigits.getLayoutBounds().getWidth() <= room, id + " shows four digits at " + what + ": "
                    + room + " px for " + fourDigits.getLayoutBounds().getWidth());
        }
        TitledPane perEncoder = robot.lookup("#perEncoder").queryAs(TitledPane.class);
        Node title = perEncoder.lookup(".title");
        assertEquals(perEncoder.getText(), ((javafx.scene.text.Text) title.lookup(".text")).getText(),
                "the per-encoder title is not cut at " + what);
    }

    /** The window at this size, then {@code setUp} on the FX thread, and every layout pass done. */
    private void showAt(FxRobot robot, int width, int height, Runnable setUp) {
        robot.interact(() -> {
            stage.setWidth(width);
            stage.setHeight(height);
            setUp.run();
        });
        WaitForAsyncUtils.waitForFxEvents();
    }

    /**
     * Scrolled to as a user would, the node lies inside the window below the header, no scroll pane cuts it, and
     * (with {@code fullHeight}) a control keeps its height and a label its whole text.
     */
    private void assertWholeAndReachable(FxRobot robot, String id, String what, boolean fullHeight) {
        Node n = robot.lookup(id).query();
        robot.interact(() -> scrollIntoView(n));
        WaitForAsyncUtils.waitForFxEvents();
        Bounds b = n.localToScene(n.getBoundsInLocal());
        assertTrue(n.isVisible() && within(b, 0, 0, stage.getScene().getWidth(), stage.getScene().getHeight()),
                id + " lies inside the window at " + what + ": " + b);
        Node header = robot.lookup("#theme").queryAs(Node.class).getParent();
        Bounds top = header.localToScene(header.getBoundsInLocal());
        assertTrue(b.getMinY() >= top.getMaxY() - 1, id + " starts below the header at " + what + ": " + b + " / " + top);
        for (Parent p = n.getParent(); p != null; p = p.getParent()) {
            if (p instanceof ScrollPane sp) {
                Bounds view = sp.localToScene(sp.getBoundsInLocal());
                assertTrue(within(b, view.getMinX(), view.getMinY(), view.getMaxX(), view.getMaxY()),
                        id + " is not cut by its scroll pane at " + what + ": " + b + " in " + view);
            }
        }
        if (fullHeight && n instanceof Control c) {
            double pref = c.prefHeight(c.getWidth());
            assertTrue(b.getHeight() >= pref - 0.5, id + " keeps its height at " + what + ": " + b.getHeight() + " < " + pref);
        }
        if (n instanceof Labeled l) {
            assertEquals(l.getText(), shownText(l), id + " is not cut to \"…\" at " + what);
        }
    }

    /** What a labelled control draws: its text, or "F…" when it is cut. */
    private static String shownText(Labeled l) {
        return ((javafx.scene.text.Text) l.lookup(".text")).getText();
    }

    private static boolean within(Bounds b, double minX, double minY, double maxX, double maxY) {
        return b.getWidth() > 0 && b.getHeight() > 0 && b.getMinX() >= minX - 1 && b.getMinY() >= minY - 1
                && b.getMaxX() <= maxX + 1 && b.getMaxY() <= maxY + 1;
    }

    /** As a keyboard focus or the user's scrolling would: every scroll pane around the node shows it. */
    private static void scrollIntoView(Node n) {
        for (Parent p = n.getParent(); p != null; p = p.getParent()) {
            if (p instanceof ScrollPane sp && sp.getContent() != null) {
                p.layout();
                double content = sp.getContent().getBoundsInLocal().getHeight();
                double view = sp.getViewportBounds().getHeight();
                if (content <= view) {
                    continue;
                }
                Bounds inContent = sp.getContent().sceneToLocal(n.localToScene(n.getBoundsInLocal()));
                double top = (content - view) * sp.getVvalue();
                if (inContent.getMinY() < top) {
                    top = inContent.getMinY();
                } else if (inContent.getMaxY() > top + view) {
                    top = inContent.getMaxY() - view;
                }
                sp.setVvalue(top / (content - view));
                sp.layout();
            }
        }
    }
}
