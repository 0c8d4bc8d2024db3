package dev.sd3studio.app.studio;

import dev.sd3studio.app.gallery.MaskCodec;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.MaskEditorViewModel;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.RgbImage;
import javafx.geometry.Bounds;
import javafx.scene.Node;
import javafx.scene.control.Label;
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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The mask editor in the real window, headless: paint, erase, invert, undo, drop a mask file, generate. */
@ExtendWith(ApplicationExtension.class)
class MaskEditorUiTest {
    @TempDir
    static Path tmp;
    private final FakeFactory engine = new FakeFactory();
    private Path data;
    private Stage stage;
    private StudioViewModel vm;
    private StudioWindow window;
    private FxTaskRunner runner;

    @Start
    void start(Stage stage) throws Exception {
        this.stage = stage;
        data = Files.createTempDirectory(tmp, "mask");
        Path model = Files.createDirectories(data.resolve("fake-model"));
        runner = new FxTaskRunner();
        vm = Studio.create(new AppDirs(data.resolve("config"), data.resolve("data")), engine, runner, Optional.of(model));
        window = StudioWindow.show(stage, vm);
    }

    @AfterEach
    void tearDown(FxRobot robot) {
        robot.interact(() -> stage.hide());
        runner.close();
    }

    private void await(Callable<Boolean> condition) throws Exception {
        WaitForAsyncUtils.waitFor(15, TimeUnit.SECONDS, condition);
        WaitForAsyncUtils.waitForFxEvents();
    }

    private static void fire(FxRobot robot, String id) {
        robot.interact(() -> robot.lookup(id).queryAs(javafx.scene.control.ButtonBase.class).fire());
    }

    private MaskEditorViewModel mask() {
        return vm.mask();
    }

    /** Drops a 64×64 start image and opens the mask editor. */
    private void startPainting(FxRobot robot) throws Exception {
        Path photo = data.resolve("photo.png");
        float[] rgb = new float[64 * 64 * 3];
        java.util.Arrays.fill(rgb, 0.4f);
        PngFiles.write(photo, new RgbImage(64, 64, rgb), Map.of());
        robot.interact(() -> window.dropFiles(List.of(photo.toFile())));
        await(() -> robot.lookup("#maskToolbar").query().isVisible());
        assertFalse(robot.lookup("#maskEditor").query().isVisible());
        robot.clickOn("#maskEdit");
        await(() -> robot.lookup("#maskEditor").query().isVisible());
        robot.interact(() -> mask().brushSizeProperty().set(12));
    }

    /** A screen point at a fraction of the overlay, i.e. of the start image. */
    private static javafx.geometry.Point2D at(FxRobot robot, double fx, double fy) {
        Node overlay = robot.lookup("#maskOverlay").query();
        Bounds b = overlay.localToScreen(overlay.getBoundsInLocal());
        return new javafx.geometry.Point2D(b.getMinX() + fx * b.getWidth(), b.getMinY() + fy * b.getHeight());
    }

    private static void stroke(FxRobot robot, double fx0, double fy, double fx1) {
        robot.moveTo(at(robot, fx0, fy)).press(MouseButton.PRIMARY);
        robot.moveTo(at(robot, (fx0 + fx1) / 2, fy)).moveTo(at(robot, fx1, fy)).release(MouseButton.PRIMARY);
    }

    @Test
    void thePaintMaskToggleStaysUnderThePointerAndASecondClickTurnsPaintingOff(FxRobot robot) throws Exception {
        Path photo = data.resolve("photo.png");
        float[] rgb = new float[64 * 64 * 3];
        java.util.Arrays.fill(rgb, 0.4f);
        PngFiles.write(photo, new RgbImage(64, 64, rgb), Map.of());
        robot.interact(() -> window.dropFiles(List.of(photo.toFile())));
        await(() -> robot.lookup("#maskToolbar").query().isVisible());
        Node toggle = robot.lookup("#maskEdit").query();
        Node canvas = robot.lookup("#canvas").query();
        Bounds before = toggle.localToScreen(toggle.getBoundsInLocal());
        Bounds canvasBefore = canvas.localToScreen(canvas.getBoundsInLocal());
        robot.clickOn("#maskEdit");
        await(() -> robot.lookup("#maskEditor").query().isVisible());
        assertTrue(mask().editingProperty().get());
        assertEquals(before, toggle.localToScreen(toggle.getBoundsInLocal()), "the toggle did not move");
        assertEquals(canvasBefore, canvas.localToScreen(canvas.getBoundsInLocal()), "the canvas did not shrink");
        robot.clickOn(before.getCenterX(), before.getCenterY(), MouseButton.PRIMARY); // the same place again
        WaitForAsyncUtils.waitForFxEvents();
        assertFalse(mask().editingProperty().get(), "the second click turns painting off");
        assertEquals(0.0, mask().coverageProperty().get(), "and does not invert the mask");
        assertEquals(before, toggle.localToScreen(toggle.getBoundsInLocal()));
    }

    @Test
    void paintEraseInvertUndo(FxRobot robot) throws Exception {
        startPainting(robot);
        stroke(robot, 0.25, 0.5, 0.75);
        await(() -> mask().coverageProperty().get() > 0);
        assertTrue(mask().isSet(32, 32) && mask().isSet(20, 32), "painted along the stroke");
        assertFalse(mask().isSet(32, 5), "not far from it");
        double painted = mask().coverageProperty().get();
        assertTrue(robot.lookup("#maskCoverage").queryAs(Label.class).getText().startsWith("Repaints"));

        robot.clickOn("#maskEraser");
        assertEquals(MaskEditorViewModel.Tool.ERASER, mask().toolProperty().get());
        robot.interact(() -> mask().brushSizeProperty().set(6));
        stroke(robot, 0.45, 0.5, 0.55);
        await(() -> mask().coverageProperty().get() < painted);
        assertFalse(mask().isSet(32, 32), "erased");
        double erased = mask().coverageProperty().get();

        fire(robot, "#maskInvert");
        assertEquals(1 - erased, mask().coverageProperty().get(), 1e-9);
        assertTrue(mask().isSet(32, 32) && mask().isSet(32, 5));

        fire(robot, "#maskUndo");
        assertEquals(erased, mask().coverageProperty().get(), 1e-9);
        robot.interact(() -> mask().brushSizeProperty().set(20));
        robot.clickOn("#maskOverlay"); // one more eraser dab, one more undo step
        assertTrue(mask().coverageProperty().get() < erased);
        robot.press(KeyCode.CONTROL, KeyCode.Z).release(KeyCode.Z, KeyCode.CONTROL);
        WaitForAsyncUtils.waitForFxEvents();
        assertEquals(erased, mask().coverageProperty().get(), 1e-9, "Ctrl+Z undid the dab");
        fire(robot, "#maskUndo");
        assertEquals(painted, mask().coverageProperty().get(), 1e-9);
        fire(robot, "#maskClear");
        assertEquals(0, mask().coverageProperty().get());
        assertTrue(robot.lookup("#maskCoverage").queryAs(Label.class).getText().startsWith("No mask"));
    }

    @Test
    void generateSendsTheMaskAndRecordsIt(FxRobot robot) throws Exception {
        startPainting(robot);
        stroke(robot, 0.3, 0.5, 0.7);
        await(() -> mask().coverageProperty().get() > 0);
        robot.clickOn("#maskKeep");
        await(() -> vm.parameters().modelProperty().get() != null
                && !vm.models().noteProperty().get().startsWith("Loading"));
        robot.interact(() -> {
            vm.parameters().widthProperty().set(64);
            vm.parameters().heightProperty().set(64);
            vm.parameters().stepsProperty().set(3);
        });
        robot.clickOn("#prompt").write("a green circle");
        robot.press(KeyCode.CONTROL, KeyCode.ENTER).release(KeyCode.ENTER, KeyCode.CONTROL);
        await(() -> vm.gallery().items().size() == 1);
        GenerationRequest r = engine.requests.getLast();
        assertTrue(r.isInpainting());
        assertTrue(r.keepUnmasked());
        assertEquals(0xffffffff, r.mask().argb(32, 32));
        assertEquals(0xff000000, r.mask().argb(32, 5));
        assertFalse(robot.lookup("#maskEditor").query().isVisible(), "the canvas shows the generation");
        RgbImage stored = MaskCodec.decode(vm.gallery().items().getFirst().parameters().get("mask"));
        assertEquals(0xffffffff, stored.argb(32, 32));
        assertEquals("true", vm.gallery().items().getFirst().parameters().get("keep_unmasked"));

        // Without paint it is plain image-to-image again.
        fire(robot, "#maskEdit");
        fire(robot, "#maskClear");
        robot.press(KeyCode.CONTROL, KeyCode.ENTER).release(KeyCode.ENTER, KeyCode.CONTROL);
        await(() -> vm.gallery().items().size() == 2);
        assertTrue(engine.requests.getLast().isImageToImage());
        assertFalse(engine.requests.getLast().isInpainting());
    }

    @Test
    void aPictureDroppedWhilePaintingBecomesTheMask(FxRobot robot) throws Exception {
        startPainting(robot);
        float[] rgb = new float[128 * 128 * 3];
        for (int p = 0; p < 128 * 64; p++) {
            rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = 1f; // top half white
        }
        Path file = data.resolve("mask.png");
        PngFiles.write(file, new RgbImage(128, 128, rgb), Map.of());
        robot.interact(() -> window.dropFiles(List.of(file.toFile())));
        await(() -> mask().coverageProperty().get() > 0);
        assertEquals(0.5, mask().coverageProperty().get(), 1e-9);
        assertTrue(mask().isSet(10, 10) && !mask().isSet(10, 50));
        assertNotNull(vm.parameters().initImageProperty().get(), "the start image stays");
    }
}
