package dev.sd3studio.app.studio;

import dev.sd3studio.app.gallery.GalleryItem;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.view.StudioWindow;
import dev.sd3studio.app.studio.vm.GeneratorFactory;
import dev.sd3studio.app.studio.vm.StudioViewModel;
import dev.sd3studio.engine.api.MemoryMode;
import dev.sd3studio.engine.api.RgbImage;
import javafx.scene.Node;
import javafx.scene.control.Label;
import javafx.scene.control.TitledPane;
import javafx.scene.image.ImageView;
import javafx.scene.input.KeyCode;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Drives the real window headless (Monocle): typing, generating, cancelling, dropping, exporting, restarting. */
@ExtendWith(ApplicationExtension.class)
class StudioUiTest {
    @TempDir
    static Path tmp;
    private final FakeFactory engine = new FakeFactory();
    private Path data;
    private Path model;
    private Stage stage;
    private int steps = 4;
    private StudioViewModel vm;
    private StudioWindow window;
    private FxTaskRunner runner;

    @Start
    void start(Stage stage) throws Exception {
        this.stage = stage;
        data = Files.createTempDirectory(tmp, "studio");
        model = Files.createDirectories(data.resolve("fake-model"));
        show(stage, engine, Optional.of(model));
    }

    private void show(Stage s, GeneratorFactory factory, Optional<Path> builtIn) {
        runner = new FxTaskRunner();
        vm = Studio.create(new AppDirs(data.resolve("config"), data.resolve("data")), factory, runner, builtIn);
        window = StudioWindow.show(s, vm);
    }

    @AfterEach
    void tearDown(FxRobot robot) {
        robot.interact(() -> stage.hide());
        runner.close();
    }

    private void await(Callable<Boolean> condition) throws Exception {
        try {
            WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, condition); // generous: CI machines can be busy
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("timed out; status=" + vm.generation().progressTextProperty().get() + ", message="
                    + vm.messageProperty().get() + ", queue=" + vm.generation().jobs() + ", model=" + vm.parameters().modelProperty().get()
                    + ", note=" + vm.models().noteProperty().get(), e);
        }
        WaitForAsyncUtils.waitForFxEvents();
    }

    private void typePromptAndGenerate(FxRobot robot, String prompt) throws Exception {
        // the model opens in the background; its defaults land first, then the test's choices
        await(() -> vm.parameters().modelProperty().get() != null
                && !vm.models().noteProperty().get().startsWith("Loading"));
        robot.interact(() -> {
            vm.parameters().widthProperty().set(64);
            vm.parameters().heightProperty().set(64);
            vm.parameters().stepsProperty().set(steps);
        });
        robot.clickOn("#prompt").write(prompt);
        await(() -> !robot.lookup("#generate").query().isDisabled());
        robot.press(KeyCode.CONTROL, KeyCode.ENTER).release(KeyCode.ENTER, KeyCode.CONTROL);
    }

    /** Controls below the fold of the editor's scroll pane: activate them as a click would. */
    private static void fire(FxRobot robot, String id) {
        robot.interact(() -> robot.lookup(id).queryAs(javafx.scene.control.ButtonBase.class).fire());
    }

    @Test
    void typeGenerateSeePreviewAndGalleryItem(FxRobot robot) throws Exception {
        engine.stepMillis = 150;
        ImageView preview = robot.lookup("#preview").queryAs(ImageView.class);
        Label status = robot.lookup("#status").queryAs(Label.class);
        // recorded as they happen: polling could miss a short run on a loaded machine
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        boolean[] previewWhileRunning = new boolean[1];
        robot.interact(() -> {
            status.textProperty().addListener((o, a, t) -> seen.add(t));
            preview.imageProperty().addListener((o, a, img) -> previewWhileRunning[0] |=
                    img != null && vm.generation().runningProperty().get() != null);
        });
        typePromptAndGenerate(robot, "a red fox");
        await(() -> vm.gallery().items().size() == 1);
        assertTrue(seen.stream().anyMatch(t -> t.matches("Step \\d/4.*")), "progress shows step i/N while running: " + seen);
        assertTrue(previewWhileRunning[0], "the preview updates while the job runs");
        GalleryItem item = vm.gallery().items().getFirst();
        assertEquals("a red fox", item.parameters().get("prompt"));
        assertEquals("4", item.parameters().get("steps"));
        assertEquals(1, robot.lookup("#gallery").queryAs(javafx.scene.layout.TilePane.class).getChildren().size());
        assertEquals("5/77", robot.lookup("#tokens-CLIP-L").queryAs(Label.class).getText().replace("CLIP-L ", ""));
    }

    @Test
    void escCancelsMidRunAndSavesNothing(FxRobot robot) throws Exception {
        engine.stepMillis = 300;
        steps = 30;
        typePromptAndGenerate(robot, "slow");
        await(() -> vm.generation().progressProperty().get() > 0);
        robot.clickOn("#canvas"); // away from the prompt's tooltip, whose popup would take the key
        robot.press(KeyCode.ESCAPE).release(KeyCode.ESCAPE);
        await(() -> vm.generation().runningProperty().get() == null);
        assertEquals("Cancelled", robot.lookup("#status").queryAs(Label.class).getText());
        assertTrue(vm.gallery().items().isEmpty());
        assertTrue(engine.requests.size() == 1);
    }

    @Test
    void droppingAnImageStartsImageToImage(FxRobot robot) throws Exception {
        Path photo = data.resolve("photo.png");
        PngFiles.write(photo, new RgbImage(8, 8, new float[8 * 8 * 3]), Map.of());
        robot.interact(() -> window.dropFiles(List.of(photo.toFile())));
        await(() -> robot.lookup("#initImageBar").query().isVisible());
        typePromptAndGenerate(robot, "from a photo");
        await(() -> vm.gallery().items().size() == 1);
        assertTrue(engine.requests.getLast().isImageToImage());
        assertEquals("0.6", vm.gallery().items().getFirst().parameters().get("strength"));
        fire(robot, "#removeInit");
        assertFalse(robot.lookup("#initImageBar").query().isVisible());
    }

    @Test
    void offloadAndDropT5ReachTheEngine(FxRobot robot) throws Exception {
        fire(robot, "#offload");
        fire(robot, "#dropT5");
        robot.interact(() -> robot.lookup("#weights").queryAs(javafx.scene.control.ComboBox.class)
                .getSelectionModel().select(dev.sd3studio.engine.api.WeightPrecision.INT4));
        typePromptAndGenerate(robot, "toggles");
        await(() -> vm.gallery().items().size() == 1);
        assertEquals(MemoryMode.OFFLOAD, engine.opened.getLast().memoryMode());
        assertEquals(dev.sd3studio.engine.api.WeightPrecision.INT4, engine.opened.getLast().weights());
        assertTrue(engine.requests.getLast().dropT5());
        assertEquals("true", vm.gallery().items().getFirst().parameters().get("drop_t5"));
    }

    @Test
    void exportTheSelectionWithMetadata(FxRobot robot) throws Exception {
        typePromptAndGenerate(robot, "export me");
        robot.press(KeyCode.CONTROL, KeyCode.ENTER).release(KeyCode.ENTER, KeyCode.CONTROL);
        await(() -> vm.gallery().items().size() == 2);
        robot.interact(() -> vm.gallery().selected().setAll(vm.gallery().items()));
        robot.interact(() -> robot.lookup("#exportPane").queryAs(TitledPane.class).setExpanded(true));
        Path out = data.resolve("exported");
        robot.interact(() -> robot.lookup("#exportFolder").queryAs(javafx.scene.control.TextField.class).setText(out.toString()));
        fire(robot, "#exportGo");
        await(() -> Files.isDirectory(out) && Files.list(out).count() == 2);
        try (var files = Files.list(out)) {
            for (Path f : files.toList()) {
                Map<String, String> text = PngFiles.readText(f);
                assertTrue(text.get(PngMetadata.PARAMETERS).startsWith("export me\nSteps: 4"), text.toString());
                assertEquals("export me", PngMetadata.decode(text.get(PngMetadata.OURS)).get("prompt"));
            }
        }
    }

    @Test
    void restartFindsGalleryAndSettingsIntact(FxRobot robot) throws Exception {
        fire(robot, "#offload");
        robot.interact(() -> robot.lookup("#weights").queryAs(javafx.scene.control.ComboBox.class)
                .getSelectionModel().select(dev.sd3studio.engine.api.WeightPrecision.INT8));
        typePromptAndGenerate(robot, "remember me");
        await(() -> vm.gallery().items().size() == 1);
        robot.interact(() -> stage.hide());
        runner.close();
        robot.interact(() -> show(stage, engine, Optional.of(model)));
        await(() -> vm.gallery().items().size() == 1 && vm.parameters().modelProperty().get() != null);
        assertEquals("remember me", robot.lookup("#prompt").queryAs(javafx.scene.control.TextArea.class).getText());
        assertTrue(robot.lookup("#offload").queryAs(javafx.scene.control.CheckBox.class).isSelected());
        assertEquals(dev.sd3studio.engine.api.WeightPrecision.INT8,
                robot.lookup("#weights").queryAs(javafx.scene.control.ComboBox.class).getValue(), "the Weights choice is remembered");
        assertEquals("remember me", vm.gallery().items().getFirst().prompt());
    }

    @Test
    void theViewerOpensOnDoubleClickStepsWithArrowsZoomsAndCompares(FxRobot robot) throws Exception {
        typePromptAndGenerate(robot, "first");
        await(() -> vm.gallery().items().size() == 1);
        robot.interact(() -> {
            vm.generation().generate();
            vm.generation().generate();
        });
        await(() -> vm.gallery().items().size() == 3);
        var tiles = robot.lookup("#gallery").queryAs(javafx.scene.layout.TilePane.class).getChildren();
        robot.doubleClickOn(tiles.get(1));
        await(() -> robot.lookup("#viewer").query().isVisible());
        assertEquals(vm.gallery().items().get(1), vm.viewer().currentProperty().get());
        ImageView big = robot.lookup("#viewerImage").queryAs(ImageView.class);
        await(() -> big.getImage() != null && big.getImage().getProgress() >= 1);
        assertTrue(big.getBoundsInParent().getWidth() > 200, "fitted: far larger than the 64 px picture");
        await(() -> big.getImage().getWidth() > 64); // once the viewer has its size
        assertTrue(big.getImage().getWidth() >= 128 && big.getImage().getWidth() % 64 == 0,
                "a small picture is enlarged by a whole factor with nearest-neighbour: " + big.getImage().getWidth());
        var px = big.getImage().getPixelReader();
        int k = (int) big.getImage().getWidth() / 64;
        assertEquals(px.getArgb(0, 0), px.getArgb(k - 1, k - 1), "each source pixel is a k×k block");
        robot.press(KeyCode.RIGHT).release(KeyCode.RIGHT);
        assertEquals(vm.gallery().items().get(2), vm.viewer().currentProperty().get());
        robot.press(KeyCode.LEFT).release(KeyCode.LEFT);
        robot.press(KeyCode.LEFT).release(KeyCode.LEFT);
        assertEquals(vm.gallery().items().get(0), vm.viewer().currentProperty().get());
        robot.press(KeyCode.DIGIT1).release(KeyCode.DIGIT1);
        WaitForAsyncUtils.waitForFxEvents();
        assertTrue(vm.viewer().oneToOneProperty().get());
        assertEquals(64, big.getBoundsInParent().getWidth(), 0.5, "1:1 shows actual pixels");
        robot.press(KeyCode.ESCAPE).release(KeyCode.ESCAPE);
        await(() -> !robot.lookup("#viewer").query().isVisible());

        robot.press(KeyCode.CONTROL).clickOn(tiles.get(2)).release(KeyCode.CONTROL);
        assertEquals(2, vm.gallery().selected().size());
        fire(robot, "#openViewer");
        await(() -> vm.viewer().comparedProperty().get() != null);
        assertTrue(robot.lookup("#viewerImage2").query().isVisible(), "two pictures side by side");
        robot.press(KeyCode.ESCAPE).release(KeyCode.ESCAPE);

        robot.interact(() -> vm.gallery().filterProperty().set("nothing like it"));
        assertEquals(0, tiles.size());
        robot.interact(() -> vm.gallery().filterProperty().set("FIRST"));
        assertEquals(3, tiles.size(), "the filter ignores case");

        robot.doubleClickOn(tiles.get(0));
        await(() -> robot.lookup("#viewer").query().isVisible());
        robot.press(KeyCode.ESCAPE).release(KeyCode.ESCAPE);
        robot.press(KeyCode.DELETE).release(KeyCode.DELETE);
        await(() -> vm.gallery().items().size() == 2);
        robot.press(KeyCode.CONTROL, KeyCode.Z).release(KeyCode.Z, KeyCode.CONTROL);
        await(() -> vm.gallery().items().size() == 3);
    }

    @Test
    void at800x600EveryControlIsReachableAndBannersKeepThemWhole(FxRobot robot) throws Exception {
        robot.interact(() -> {
            stage.setWidth(800);
            stage.setHeight(600);
        });
        WaitForAsyncUtils.waitForFxEvents();
        var scene = stage.getScene();
        for (String id : new String[] {"#generate", "#cancel", "#paste", "#status", "#progress", "#gallery",
                "#galleryFilter", "#exportPane", "#prompt", "#model", "#editorScroll", "#canvas"}) {
            Node n = robot.lookup(id).query();
            var b = n.localToScene(n.getBoundsInLocal());
            assertTrue(n.isVisible() && b.getWidth() > 0 && b.getMinX() >= -1 && b.getMinY() >= -1
                    && b.getMaxX() <= scene.getWidth() + 1 && b.getMaxY() <= scene.getHeight() + 1,
                    id + " lies inside the 800×600 window: " + b);
        }
        Node canvas = robot.lookup("#canvas").query();
        assertTrue(canvas.getBoundsInLocal().getWidth() >= 200, "the canvas keeps a usable width");
        javafx.scene.control.ScrollPane editor = robot.lookup("#editorScroll").queryAs(javafx.scene.control.ScrollPane.class);
        javafx.scene.layout.Region column = (javafx.scene.layout.Region) editor.getContent();
        assertTrue(column.getWidth() <= editor.getViewportBounds().getWidth() + 1,
                "the editor column fits its scroll pane's width (no control cut off at the right): content "
                        + column.getWidth() + ", viewport " + editor.getViewportBounds().getWidth());
        Label status = robot.lookup("#status").queryAs(Label.class);
        robot.interact(() -> vm.generation().progressTextProperty().set("Step 11/28 · 9.4 it/s · ETA 0:03"));
        WaitForAsyncUtils.waitForFxEvents();
        javafx.scene.text.Text shown = (javafx.scene.text.Text) status.lookup(".text");
        assertEquals("Step 11/28 · 9.4 it/s · ETA 0:03", shown.getText(), "status, speed and ETA are not clipped");

        Node generate = robot.lookup("#generate").query();
        var before = generate.localToScene(generate.getBoundsInLocal());
        robot.interact(() -> vm.messageProperty().set(dev.sd3studio.app.studio.vm.UserMessage.warning(
                "A long warning that would have pushed every control down by a line or two in the old layout.")));
        WaitForAsyncUtils.waitForFxEvents();
        assertTrue(robot.lookup("#message").query().isVisible());
        // the banner pushes the columns down (it covers nothing): Generate moves but stays whole in the window
        var after = generate.localToScene(generate.getBoundsInLocal());
        assertEquals(before.getHeight(), after.getHeight(), 0.5, "Generate keeps its size");
        assertTrue(after.getMaxY() <= scene.getHeight() + 1, "Generate stays inside the 800×600 window: " + after);
    }

    @Test
    void aLorasRemoveButtonStaysInsideItsListAt800x600(FxRobot robot) throws Exception {
        robot.interact(() -> {
            stage.setWidth(800);
            stage.setHeight(600);
        });
        await(() -> vm.parameters().modelProperty().get() != null);
        Path lora = Fixtures.root().resolve("goldens-lora/sd3_lora_rank4/lora.safetensors");
        robot.interact(() -> vm.loras().add(List.of(lora)));
        WaitForAsyncUtils.waitForFxEvents();
        Node list = robot.lookup("#loraList").query();
        Node remove = robot.lookup("#removeLora").query();
        var l = list.localToScene(list.getBoundsInLocal());
        var r = remove.localToScene(remove.getBoundsInLocal());
        assertTrue(r.getMaxX() <= l.getMaxX() && r.getMinX() >= l.getMinX(), "remove " + r + " lies inside the list " + l);
    }

    @Test
    void aDroppedCheckpointBecomesAModelAndADroppedLoraStaysALora(FxRobot robot) throws Exception {
        await(() -> vm.parameters().modelProperty().get() != null);
        Path checkpoint = Fixtures.root().resolve("checkpoints/tiny-sd3-comfy-fp16/tiny-sd3.safetensors").toAbsolutePath().normalize();
        robot.interact(() -> window.dropFiles(List.of(checkpoint.toFile())));
        await(() -> vm.parameters().modelProperty().get() != null
                && vm.parameters().modelProperty().get().folder().equals(checkpoint));
        assertTrue(vm.loras().items().isEmpty(), "the checkpoint is no LoRA");

        Path lora = Fixtures.root().resolve("goldens-lora/sd3_lora_rank4/lora.safetensors");
        robot.interact(() -> window.dropFiles(List.of(lora.toFile())));
        await(() -> vm.loras().items().stream().anyMatch(i -> i.file().equals(lora)));
        assertEquals(checkpoint, vm.parameters().modelProperty().get().folder(), "a LoRA does not replace the model");
        assertNull(vm.parameters().initImageProperty().get(), "neither file is a picture");
    }

    @Test
    void clipSkipIsAFieldThatLoadedParametersFillAndGenerationUses(FxRobot robot) throws Exception {
        @SuppressWarnings("unchecked")
        javafx.scene.control.Spinner<Integer> field = robot.lookup("#clipSkip").queryAs(javafx.scene.control.Spinner.class);
        assertEquals(0, field.getValue());
        robot.interact(() -> vm.parameters().clipSkipProperty().set(2)); // what "Load its parameters" does
        assertEquals(2, field.getValue());
        robot.interact(() -> field.getValueFactory().setValue(1));
        typePromptAndGenerate(robot, "a skip");
        await(() -> engine.requests.size() == 1);
        assertEquals(1, engine.requests.getFirst().clipSkip());
        robot.interact(() -> field.getValueFactory().setValue(0));
        assertNull(vm.parameters().clipSkipProperty().get(), "0 is no skip");
    }

    @Test
    void loadParametersRemovesAStartImageThePictureDidNotUse(FxRobot robot) throws Exception {
        typePromptAndGenerate(robot, "text to image");
        await(() -> vm.gallery().items().size() == 1);
        Path photo = data.resolve("photo.png");
        PngFiles.write(photo, new RgbImage(8, 8, new float[8 * 8 * 3]), Map.of());
        robot.interact(() -> window.dropFiles(List.of(photo.toFile())));
        await(() -> robot.lookup("#initImageBar").query().isVisible());
        robot.interact(() -> vm.gallery().selected().setAll(vm.gallery().items().getFirst()));
        fire(robot, "#reuseParameters");
        await(() -> !robot.lookup("#initImageBar").query().isVisible());
        robot.press(KeyCode.CONTROL, KeyCode.ENTER).release(KeyCode.ENTER, KeyCode.CONTROL);
        await(() -> vm.gallery().items().size() == 2);
        assertFalse(engine.requests.getLast().isImageToImage(), "reproducing stays text-to-image");
    }

    @Test
    void reusingPictureKOfABatchMakesItAgainPixelForPixel(FxRobot robot) throws Exception {
        Path demo = dev.sd3studio.app.BuiltInModel.find().orElseThrow();
        robot.interact(() -> {
            stage.hide();
            runner.close();
            show(stage, GeneratorFactory.ENGINE, Optional.of(demo));
        });
        steps = 6;
        robot.interact(() -> {
            vm.parameters().randomSeedProperty().set(false);
            vm.parameters().seedProperty().set(2024);
            vm.parameters().imagesPerPromptProperty().set(3);
        });
        typePromptAndGenerate(robot, "a small green square at the top right on a black background");
        await(() -> vm.gallery().items().size() == 3);
        GalleryItem third = vm.gallery().items().stream()
                .filter(i -> "2".equals(i.parameters().get("batch_index"))).findFirst().orElseThrow();
        robot.interact(() -> vm.gallery().selected().setAll(third));
        fire(robot, "#reuseParameters");
        await(() -> vm.parameters().imagesPerPromptProperty().get() == 1); // the parameters are read off the FX thread
        assertTrue(robot.lookup("#batchSlice").queryAs(Label.class).getText().contains("picture 3"));
        robot.press(KeyCode.CONTROL, KeyCode.ENTER).release(KeyCode.ENTER, KeyCode.CONTROL);
        await(() -> vm.gallery().items().size() == 4);
        GalleryItem again = vm.gallery().items().getFirst();
        assertEquals("2", again.parameters().get("batch_index"));
        assertTrue(java.util.Arrays.equals(pixels(third.file()), pixels(again.file())), "pixel-identical");
        GalleryItem first = vm.gallery().items().stream()
                .filter(i -> "0".equals(i.parameters().get("batch_index"))).findFirst().orElseThrow();
        assertFalse(java.util.Arrays.equals(pixels(first.file()), pixels(again.file())), "and not the batch's first");
    }

    private static int[] pixels(Path png) throws Exception {
        var img = javax.imageio.ImageIO.read(png.toFile());
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void realEngineOnTinySd3(FxRobot robot) throws Exception {
        Path tiny = Fixtures.tinySd3();
        robot.interact(() -> {
            stage.hide();
            runner.close();
            show(stage, GeneratorFactory.ENGINE, Optional.of(tiny));
        });
        await(() -> !robot.lookup("#tokenCounts").queryAs(javafx.scene.layout.Pane.class).getChildren().isEmpty()
                || vm.prompt().promptProperty().get().isEmpty());
        typePromptAndGenerate(robot, "a tiny test");
        await(() -> vm.gallery().items().size() == 1);
        Map<String, String> p = vm.gallery().items().getFirst().parameters();
        assertEquals("a tiny test", p.get("prompt"));
        assertEquals("64", p.get("width"));
        assertEquals("tiny-sd3", p.get("model"));
        Node counts = robot.lookup("#tokens-T5").query();
        assertTrue(((Label) counts).getText().startsWith("T5 "));
    }
}
