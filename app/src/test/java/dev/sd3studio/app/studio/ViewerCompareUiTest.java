package dev.sd3studio.app.studio;

import dev.sd3studio.app.gallery.GalleryItem;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import javafx.geometry.Bounds;
import javafx.scene.control.Label;
import javafx.scene.image.ImageView;
import javafx.scene.text.Text;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Compare in the real window, headless: two pictures of different sizes at one scale, top-aligned, captions whole. */
@ExtendWith(ApplicationExtension.class)
class ViewerCompareUiTest {
    @TempDir
    static Path tmp;
    private Stage stage;
    private StudioViewModel vm;
    private FakeStudio studio;

    @Start
    void start(Stage stage) throws Exception {
        studio = FakeStudio.show(stage, tmp, new FakeFactory());
        this.stage = stage;
        vm = studio.vm;
        stage.setWidth(1024);
        stage.setHeight(700);
    }

    @AfterEach
    void tearDown(FxRobot robot) {
        studio.close(robot);
    }

    private static void await(Callable<Boolean> condition) throws Exception {
        FakeStudio.await(condition);
    }

    private void generate(FxRobot robot, int width, int height, int count) throws Exception {
        robot.interact(() -> {
            vm.parameters().widthProperty().set(width);
            vm.parameters().heightProperty().set(height);
            vm.generation().generate();
        });
        await(() -> vm.gallery().items().size() == count);
    }

    @Test
    void twoPicturesOfDifferentSizesAreDrawnAtOneScaleTopAlignedWithWholeParameterLists(FxRobot robot) throws Exception {
        await(() -> vm.parameters().modelProperty().get() != null && !vm.models().noteProperty().get().startsWith("Loading"));
        robot.interact(() -> {
            vm.parameters().stepsProperty().set(2);
            vm.prompt().promptProperty().set("a large red circle in the center on a blue background, seen from a little"
                    + " above, soft light, a long prompt so that the caption needs several lines to be read whole");
        });
        generate(robot, 64, 64, 1);
        generate(robot, 96, 64, 2);
        GalleryItem wide = vm.gallery().items().get(0);
        GalleryItem square = vm.gallery().items().get(1);
        robot.interact(() -> vm.viewer().compare(square, wide));
        await(() -> robot.lookup("#viewerImage2").query().isVisible());
        ImageView left = robot.lookup("#viewerImage").queryAs(ImageView.class);
        ImageView right = robot.lookup("#viewerImage2").queryAs(ImageView.class);
        await(() -> left.getImage() != null && right.getImage() != null && left.getBoundsInParent().getWidth() > 64);

        Bounds l = left.localToScene(left.getBoundsInLocal());
        Bounds r = right.localToScene(right.getBoundsInLocal());
        double leftScale = l.getWidth() / 64;
        double rightScale = r.getWidth() / 96;
        assertEquals(leftScale, rightScale, 0.02, "one scale for both: " + l + " / " + r);
        assertEquals(l.getHeight() / 64, r.getHeight() / 64, 0.02, "the same heights, as both are 64 px high");
        assertTrue(leftScale > 1.5, "fitted, not 1:1: " + leftScale);
        assertEquals(l.getMinY(), r.getMinY(), 0.5, "top-aligned");
        // the whole viewer stays in the window: its bar, both pictures and both captions
        double sceneWidth = left.getScene().getWidth();
        double sceneHeight = left.getScene().getHeight();
        for (String id : new String[] {"#viewerPrevious", "#viewerImage", "#viewerImage2", "#viewerCaption",
                "#viewerCaption2"}) {
            javafx.scene.Node n = robot.lookup(id).query();
            Bounds b = n.localToScene(n.getBoundsInLocal());
            assertTrue(b.getMinX() >= 0 && b.getMinY() >= 0 && b.getMaxX() <= sceneWidth + 0.5
                    && b.getMaxY() <= sceneHeight + 0.5, id + " " + b + " leaves the " + sceneWidth + "x" + sceneHeight
                    + " window");
        }
        for (String id : new String[] {"#viewerCaption", "#viewerCaption2"}) {
            Label caption = robot.lookup(id).queryAs(Label.class);
            Text shown = (Text) caption.lookup(".text");
            assertEquals(caption.getText(), shown.getText(), id + " is shown whole, not cut with …");
            assertTrue(caption.getText().contains("Seed") || caption.getText().contains("seed"), caption.getText());
        }
    }
}
