package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.FakeFactory;
import dev.sd3studio.app.studio.Studio;
import dev.sd3studio.app.studio.task.DirectTaskRunner;
import dev.sd3studio.engine.api.SkipLayerGuidance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The studio's skip-layer guidance without a toolkit: the model's layers, the cost, the checks, the request. */
class SkipLayerViewModelTest {
    @TempDir
    Path tmp;
    final FakeFactory engine = new FakeFactory();
    StudioViewModel vm;

    /** SD3.5 Medium as the engine describes it: 24 blocks, Stability AI's 7, 8, 9. */
    private StudioViewModel openMedium() throws Exception {
        engine.transformerBlocks = 24;
        engine.recommendedSkipLayers = List.of(7, 8, 9);
        return open();
    }

    private StudioViewModel open() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("models/fake-sd3"));
        vm = Studio.create(new AppDirs(tmp.resolve("config"), tmp.resolve("data")), engine, new DirectTaskRunner(),
                Optional.of(model));
        vm.prompt().promptProperty().set("a red fox");
        vm.parameters().widthProperty().set(64);
        vm.parameters().heightProperty().set(64);
        return vm;
    }

    @AfterEach
    void tearDown() {
        if (vm != null) {
            vm.close();
        }
    }

    @Test
    void sd35MediumGetsItsRecommendedLayersAndOtherModelsNone() throws Exception {
        SkipLayerViewModel slg = openMedium().parameters().skipLayers();
        assertEquals("7,8,9", slg.layersProperty().get());
        assertFalse(slg.onProperty().get(), "filled in, but the switch is the user's");
        assertEquals("Layers 7,8,9 are Stability AI's for this model (it has blocks 0 to 23).", slg.noteBinding().get());
        vm.close();

        engine.transformerBlocks = 38;
        engine.recommendedSkipLayers = List.of();
        tmp = Files.createDirectories(tmp.resolve("large")); // a first start again: the model's defaults apply
        SkipLayerViewModel other = open().parameters().skipLayers();
        assertEquals("", other.layersProperty().get());
        assertEquals("This model has no recommended layers; you may try some of its blocks 0 to 37.",
                other.noteBinding().get());
    }

    @Test
    void theCostCountsTheStepsThatGetTheExtraPass() throws Exception {
        SkipLayerViewModel slg = openMedium().parameters().skipLayers();
        assertEquals("", slg.costBinding().get(), "no cost while off");
        slg.onProperty().set(true);
        vm.parameters().stepsProperty().set(28);
        vm.parameters().guidanceProperty().set(7);
        assertEquals("+1 pass on 5 of 28 steps", slg.costBinding().get(), "steps 1 to 5: 0.28 < i < 5.6");
        slg.stopProperty().set(0.5);
        assertEquals("+1 pass on 13 of 28 steps", slg.costBinding().get());

        vm.parameters().guidanceProperty().set(1);
        assertEquals("off: needs guidance above 1", slg.costBinding().get());
    }

    @Test
    void layersTheModelDoesNotHaveAreRefusedWithTheRangeBeforeGenerate() throws Exception {
        SkipLayerViewModel slg = openMedium().parameters().skipLayers();
        slg.onProperty().set(true);
        slg.layersProperty().set("7,8,2"); // on the way to 24, keystroke by keystroke: not committed
        slg.layersProperty().set("7,8,24");
        assertEquals("Skip layers must be block numbers from 0 to 23, separated by commas, such as 7,8,9;"
                + " this model has no block 24", slg.problemProperty().get());
        assertTrue(vm.generation().generate().isEmpty());
        assertTrue(engine.requests.isEmpty());
        String refusal = vm.messageProperty().get().text();
        assertTrue(refusal.startsWith("Not generated: Skip layers must be block numbers from 0 to 23"), refusal);

        slg.layersProperty().set("7;8");
        assertTrue(slg.problemProperty().get().endsWith("\"7;8\" is not one"), slg.problemProperty().get());
        slg.layersProperty().set("");
        assertTrue(slg.problemProperty().get().endsWith("none are given (or turn SLG off)"));

        slg.onProperty().set(false);
        assertNull(slg.problemProperty().get(), "layers that are not used block nothing");
        assertTrue(vm.parameters().typedProblems().isEmpty());
        slg.onProperty().set(true);
        slg.revertLayers();
        assertEquals("7,8,9", slg.layersProperty().get(), "Esc goes back to the last usable layers");
        assertNull(slg.problemProperty().get());
        assertTrue(vm.generation().generate().isPresent());
    }

    @Test
    void theRequestCarriesTheValuesAndLoadingAPictureBringsThemBack() throws Exception {
        SkipLayerViewModel slg = openMedium().parameters().skipLayers();
        vm.parameters().guidanceProperty().set(5);
        vm.generation().generate();
        assertEquals(SkipLayerGuidance.OFF, engine.requests.getLast().skipLayers(), "off: no layers go out");

        slg.onProperty().set(true);
        slg.layersProperty().set("9, 7");
        slg.scaleProperty().set(3.0);
        slg.startProperty().set(0.02);
        slg.stopProperty().set(0.3);
        vm.generation().generate();
        SkipLayerGuidance sent = new SkipLayerGuidance(List.of(7, 9), 3.0, 0.02, 0.3);
        assertEquals(sent, engine.requests.getLast().skipLayers());
        var withSlg = vm.gallery().items().getFirst(); // the newest first
        assertEquals("7,9", withSlg.parameters().get("skip_layers"));
        var without = vm.gallery().items().getLast();

        vm.imports().loadParameters(without.parameters());
        assertFalse(slg.onProperty().get(), "a picture made without SLG turns it off");
        slg.layersProperty().set("1");
        slg.scaleProperty().set(1.0);
        vm.imports().loadParameters(withSlg.parameters());
        assertTrue(slg.onProperty().get());
        assertEquals("7,9", slg.layersProperty().get());
        assertEquals(3.0, slg.scaleProperty().get());
        assertEquals(0.02, slg.startProperty().get());
        assertEquals(0.3, slg.stopProperty().get());
        vm.generation().generate();
        assertEquals(sent, engine.requests.getLast().skipLayers(), "the picture's SLG again");
    }

    @Test
    void theSwitchAndValuesComeBackAtTheNextStart() throws Exception {
        SkipLayerViewModel slg = openMedium().parameters().skipLayers();
        slg.onProperty().set(true);
        slg.layersProperty().set("8");
        slg.stopProperty().set(0.4);
        vm.settings().save();
        vm.close();
        SkipLayerViewModel again = open().parameters().skipLayers();
        assertTrue(again.onProperty().get());
        assertEquals("8", again.layersProperty().get(), "the same model keeps the user's layers");
        assertEquals(0.4, again.stopProperty().get());
    }
}
