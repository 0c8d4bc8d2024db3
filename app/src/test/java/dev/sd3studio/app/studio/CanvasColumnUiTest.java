package dev.sd3studio.app.studio;

import dev.sd3studio.engine.api.RgbImage;
import javafx.geometry.Bounds;
import javafx.scene.Node;
import javafx.scene.Parent;
import javafx.scene.control.Control;
import javafx.scene.control.Labeled;
import javafx.scene.control.ScrollPane;
import javafx.scene.control.ToggleButton;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The middle column with a start image and the mask tools open, at the 800×600 minimum and at 200 % (see
 * {@link RightColumnUiTest} for how 200 % is sized). It is taller than the window there; it used to be
 * centred in its split slot, so its top (the picture) and its bottom (progress, status, queue) were cut off
 * with no way to reach them.
 */
@ExtendWith(ApplicationExtension.class)
class CanvasColumnUiTest {
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
    void everyCanvasControlIsReachableWithAStartImageAndTheMaskTools(int width, int height, String what, FxRobot robot) {
        robot.interact(() -> {
            stage.setWidth(width);
            stage.setHeight(height);
            studio.vm.imports().setInitImage(new RgbImage(64, 64, new float[64 * 64 * 3]), "start.png");
        });
        WaitForAsyncUtils.waitForFxEvents();
        robot.interact(() -> robot.lookup("#maskEdit").queryAs(ToggleButton.class).setSelected(true));
        WaitForAsyncUtils.waitForFxEvents();
        double w = stage.getScene().getWidth();
        double h = stage.getScene().getHeight();
        for (String id : new String[] {"#canvas", "#removeInit", "#strength", "#maskEdit", "#maskTools", "#maskKeep", "#maskCoverage",
                "#generate", "#cancel", "#paste", "#progress", "#status", "#queue"}) {
            Node n = robot.lookup(id).query();
            robot.interact(() -> RightColumnUiTest.scrollIntoView(n));
            WaitForAsyncUtils.waitForFxEvents();
            Bounds b = n.localToScene(n.getBoundsInLocal());
            assertTrue(n.isVisible() && RightColumnUiTest.within(b, 0, 0, w, h), id + " lies inside the window at " + what + ": " + b);
            Node header = robot.lookup("#theme").queryAs(Node.class).getParent();
            Bounds top = header.localToScene(header.getBoundsInLocal());
            assertTrue(b.getMinY() >= top.getMaxY() - 1, id + " starts below the header at " + what + ": " + b + " / " + top);
            if (n instanceof Control c && !id.equals("#queue")) { // the queue gives way first, by design, to 44 px
                double pref = c.prefHeight(c.getWidth());
                assertTrue(b.getHeight() >= pref - 0.5, id + " keeps its height at " + what + ": " + b.getHeight() + " < " + pref);
            }
            if (n instanceof Labeled l) {
                assertEquals(l.getText(), RightColumnUiTest.shownText(l), id + " is not cut to \"…\" at " + what);
            }
            for (Parent p = n.getParent(); p != null; p = p.getParent()) {
                if (p instanceof ScrollPane sp) {
                    Bounds view = sp.localToScene(sp.getBoundsInLocal());
                    assertTrue(RightColumnUiTest.within(b, view.getMinX(), view.getMinY(), view.getMaxX(), view.getMaxY()),
                            id + " is not cut by its scroll pane at " + what + ": " + b + " in " + view);
                }
            }
        }
    }
}
