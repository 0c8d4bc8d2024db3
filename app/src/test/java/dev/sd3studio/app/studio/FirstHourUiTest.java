package dev.sd3studio.app.studio;

import dev.sd3studio.app.studio.vm.StudioViewModel;
import dev.sd3studio.app.studio.vm.UserMessage;
import javafx.geometry.Bounds;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.ScrollPane;
import javafx.scene.control.TextArea;
import javafx.scene.image.ImageView;
import javafx.scene.input.KeyCode;
import javafx.scene.input.MouseButton;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a person meets in the first minutes: the cursor in the prompt, banners that cover nothing, a
 * gallery where a click selects and a double click opens, and actual pixels in the middle of the viewer.
 */
@ExtendWith(ApplicationExtension.class)
class FirstHourUiTest {
    @TempDir
    static Path tmp;
    private final FakeFactory engine = new FakeFactory();
    private Stage stage;
    private StudioViewModel vm;
    private FakeStudio studio;

    @Start
    void start(Stage stage) throws Exception {
        studio = FakeStudio.show(stage, tmp, engine);
        this.stage = stage;
        vm = studio.vm;
    }

    @AfterEach
    void tearDown(FxRobot robot) {
        studio.close(robot);
    }

    private static void await(Callable<Boolean> condition) throws Exception {
        FakeStudio.await(condition);
    }

    private void generate(FxRobot robot, int pictures) throws Exception {
        await(() -> vm.parameters().modelProperty().get() != null && !vm.models().noteProperty().get().startsWith("Loading"));
        robot.interact(() -> {
            vm.parameters().stepsProperty().set(1);
            vm.prompt().promptProperty().set("a picture");
            for (int i = 0; i < pictures; i++) {
                vm.generation().generate();
            }
        });
        await(() -> vm.gallery().items().size() == pictures);
    }

    private static Bounds inScene(Node n) {
        return n.localToScene(n.getBoundsInLocal());
    }

    private List<Node> tiles(FxRobot robot) {
        return robot.lookup("#gallery").queryAs(javafx.scene.layout.TilePane.class).getChildren();
    }

    @Test
    void theCursorStartsInThePrompt(FxRobot robot) throws Exception {
        WaitForAsyncUtils.waitForFxEvents();
        TextArea prompt = robot.lookup("#prompt").queryAs(TextArea.class);
        assertSame(prompt, stage.getScene().getFocusOwner(), "focus after start: " + stage.getScene().getFocusOwner());
        robot.write("a small");
        assertEquals("a small", prompt.getText());
    }

    @Test
    void aBannerCoversNeitherThePromptHeaderNorTheFilterAndGoesAwayWhenItsActionIsDone(FxRobot robot) throws Exception {
        generate(robot, 1);
        robot.interact(() -> vm.messageProperty().set(UserMessage.warning(
                "A long warning that wraps in a narrow window, the way the LoRA and export messages do, and stays.")));
        WaitForAsyncUtils.waitForFxEvents();
        Node banner = robot.lookup("#message").query().getParent();
        assertTrue(banner.isVisible());
        for (String id : new String[] {"#undo", "#redo", "#history", "#galleryFilter"}) {
            Node n = robot.lookup(id).query();
            assertFalse(inScene(banner).intersects(inScene(n)), id + " " + inScene(n) + " lies under the banner " + inScene(banner));
        }
        robot.clickOn("#galleryFilter").write("pic");
        assertEquals("pic", vm.gallery().filterProperty().get(), "the filter field takes the click and the typing");
        java.util.concurrent.atomic.AtomicInteger undoClicks = new java.util.concurrent.atomic.AtomicInteger();
        robot.lookup("#undo").query().addEventFilter(javafx.scene.input.MouseEvent.MOUSE_CLICKED, e -> undoClicks.incrementAndGet());
        robot.clickOn("#undo");
        assertEquals(1, undoClicks.get(), "the click reaches Undo, not the banner");
        robot.interact(() -> vm.gallery().filterProperty().set(""));

        robot.clickOn(tiles(robot).getFirst());
        robot.clickOn("#delete");
        await(() -> vm.gallery().items().isEmpty());
        assertTrue(vm.messageProperty().get().text().startsWith("Deleted 1 image"), vm.messageProperty().get().text());
        robot.clickOn("#undoDelete");
        await(() -> vm.gallery().items().size() == 1);
        assertNull(vm.messageProperty().get(), "\"Undo brings them back\" is done: the banner goes away");
        assertFalse(banner.isVisible());
    }

    @Test
    void aClickSelectsADoubleClickOrEnterOpensAndArrowsFollowTheGrid(FxRobot robot) throws Exception {
        generate(robot, 3);
        List<Node> tiles = tiles(robot);
        // a tile with a neighbour to its right in the same row: how many fit in a row depends on the
        // column's width (a scroll bar can take one), so it is read from the layout, not assumed
        int first = -1;
        for (int i = 0; i + 1 < tiles.size() && first < 0; i++) {
            if (Math.abs(inScene(tiles.get(i)).getMinY() - inScene(tiles.get(i + 1)).getMinY()) < 0.5) {
                first = i;
            }
        }
        assertTrue(first >= 0, "the gallery shows one picture a row at the default size");
        robot.clickOn(tiles.get(first));
        WaitForAsyncUtils.waitForFxEvents();
        assertEquals(List.of(vm.gallery().shown().get(first)), vm.gallery().selected());
        assertFalse(robot.lookup("#viewer").query().isVisible(), "a single click opens nothing");

        Node selected = tiles.get(first);
        robot.press(KeyCode.RIGHT).release(KeyCode.RIGHT);
        Node now = tiles.get(vm.gallery().shown().indexOf(vm.gallery().selected().getFirst()));
        assertEquals(inScene(selected).getMinY(), inScene(now).getMinY(), 0.5, "same row");
        assertTrue(inScene(now).getMinX() > inScene(selected).getMaxX(), "→ selects the picture drawn to the right");

        robot.press(KeyCode.ENTER).release(KeyCode.ENTER);
        await(() -> robot.lookup("#viewer").query().isVisible());
        assertEquals(vm.gallery().selected().getFirst(), vm.viewer().currentProperty().get());
        robot.press(KeyCode.ESCAPE).release(KeyCode.ESCAPE);
        await(() -> !robot.lookup("#viewer").query().isVisible());

        robot.doubleClickOn(tiles.get(0));
        await(() -> robot.lookup("#viewer").query().isVisible());
        assertEquals(vm.gallery().shown().get(0), vm.viewer().currentProperty().get());
        robot.press(KeyCode.ESCAPE).release(KeyCode.ESCAPE);
        await(() -> !robot.lookup("#viewer").query().isVisible());

        robot.press(KeyCode.CONTROL).clickOn(tiles.get(2)).release(KeyCode.CONTROL);
        assertEquals(2, vm.gallery().selected().size());
        Button view = robot.lookup("#openViewer").queryAs(Button.class);
        assertEquals("Compare", view.getText(), "two selected: the button says it compares them");
        robot.interact(view::fire);
        await(() -> vm.viewer().comparedProperty().get() != null);
    }

    @Test
    void actualPixelsCentresThePicture(FxRobot robot) throws Exception {
        generate(robot, 1);
        robot.doubleClickOn(tiles(robot).getFirst(), MouseButton.PRIMARY);
        await(() -> robot.lookup("#viewer").query().isVisible());
        robot.press(KeyCode.DIGIT1).release(KeyCode.DIGIT1);
        WaitForAsyncUtils.waitForFxEvents();
        ImageView big = robot.lookup("#viewerImage").queryAs(ImageView.class);
        assertEquals(64, big.getBoundsInParent().getWidth(), 0.5, "actual pixels");
        Node area = big;
        while (!(area instanceof ScrollPane)) {
            area = area.getParent();
        }
        ScrollPane pane = (ScrollPane) area;
        Bounds port = pane.lookup(".viewport").localToScene(pane.lookup(".viewport").getBoundsInLocal());
        Bounds image = inScene(big);
        assertEquals(port.getCenterX(), image.getCenterX(), 1, "centred across: picture " + image + ", window " + port);
        assertEquals(port.getCenterY(), image.getCenterY(), 1, "centred down: picture " + image + ", window " + port);
    }

    @Test
    void aLoraForAnotherModelIsMarkedInItsRowAndGenerateStillWorks(FxRobot robot) throws Exception {
        Path foreign = Files.copy(Fixtures.root().resolve("goldens-lora/sd3_lora_rank4/lora.safetensors"),
                Files.createDirectories(tmp.resolve("elsewhere")).resolve("foreign.safetensors"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        engine.foreignLoras = java.util.Set.of("foreign.safetensors");
        await(() -> vm.parameters().modelProperty().get() != null && !vm.models().noteProperty().get().startsWith("Loading"));
        robot.interact(() -> vm.loras().add(List.of(foreign)));
        await(() -> vm.loras().items().getFirst().isForeign());
        Node list = robot.lookup("#loraList").query();
        assertTrue(list.lookupAll(".label").stream().anyMatch(l -> l.isVisible()
                && "made for a different model".equals(((javafx.scene.control.Label) l).getText())), "the row says why");
        String banner = robot.lookup("#message").queryAs(javafx.scene.control.Label.class).getText();
        assertTrue(banner.contains("foreign.safetensors") && !banner.contains("elsewhere"), banner);

        generate(robot, 1);
        assertTrue(engine.requests.getLast().loras().isEmpty(), "the marked LoRA is left out; Generate works");
    }
}
