package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.ExportFormat;
import dev.sd3studio.app.gallery.Exporter;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.FakeFactory;
import dev.sd3studio.app.studio.Studio;
import dev.sd3studio.app.studio.task.DirectTaskRunner;
import dev.sd3studio.engine.api.MemoryMode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The studio's state and actions without any toolkit: synchronous task runner, fake engine. */
class StudioViewModelTest {
    @TempDir
    Path tmp;
    FakeFactory engine;
    StudioViewModel vm;
    Path model;

    @BeforeEach
    void setUp() throws Exception {
        engine = new FakeFactory();
        model = Files.createDirectories(tmp.resolve("models/fake-sd3"));
        vm = open();
    }

    private StudioViewModel open() {
        return Studio.create(new AppDirs(tmp.resolve("config"), tmp.resolve("data")), engine, new DirectTaskRunner(),
                Optional.of(model));
    }

    @Test
    void exportChoicesAreSavedWhenMadeNotOnlyAtACleanExit() {
        vm.start();
        vm.gallery().exportFormatProperty().set(ExportFormat.JPEG);
        vm.gallery().exportQualityProperty().set(0.7);
        vm.gallery().exportMetadataProperty().set(false);
        vm.gallery().exportFolderProperty().set(tmp.resolve("out").toString());
        // no close(): the studio ended uncleanly
        var saved = new dev.sd3studio.app.settings.SettingsStore(
                new AppDirs(tmp.resolve("config"), tmp.resolve("data")).settingsFile()).load().export();
        assertEquals("JPEG", saved.format());
        assertEquals(0.7, saved.quality(), 1e-9);
        assertFalse(saved.metadata());
        assertEquals(tmp.resolve("out").toString(), saved.folder());
    }

    @Test
    void generatesIntoTheGalleryWithTheParameters() throws Exception {
        vm.prompt().promptProperty().set("a red fox");
        vm.parameters().randomSeedProperty().set(false);
        vm.parameters().seedProperty().set(1234);
        vm.parameters().stepsProperty().set(3);
        assertTrue(vm.generation().generate().isPresent());
        assertEquals(1, vm.gallery().items().size());
        var item = vm.gallery().items().getFirst();
        assertEquals("a red fox", item.parameters().get("prompt"));
        assertEquals("1234", item.parameters().get("seed"));
        assertEquals("3", item.parameters().get("steps"));
        assertEquals("fake-sd3", PngMetadata.decode(PngFiles.readText(item.file()).get(PngMetadata.OURS)).get("model"));
        assertEquals(1234L, vm.parameters().lastSeedProperty().get());
        assertTrue(vm.generation().progressTextProperty().get().startsWith("Saved 1 image"));
        assertNotNull(vm.generation().previewProperty().get());
        assertEquals(List.of("a red fox"), vm.prompt().history());
    }

    @Test
    void aCancelledRunLeavesTheLastResultOnTheCanvasNotItsHalfDenoisedPreview() {
        vm.prompt().promptProperty().set("a red fox");
        vm.parameters().stepsProperty().set(4);
        engine.cancelAfterStep = 2;
        assertTrue(vm.generation().generate().isPresent());
        assertEquals("Cancelled", vm.generation().progressTextProperty().get());
        assertNull(vm.generation().previewProperty().get(), "no result yet: the canvas shows its hint again");

        engine.cancelAfterStep = 0;
        vm.generation().generate();
        var finished = vm.generation().previewProperty().get();
        assertNotNull(finished);
        engine.cancelAfterStep = 2;
        vm.generation().generate();
        assertEquals("Cancelled", vm.generation().progressTextProperty().get());
        assertSame(finished, vm.generation().previewProperty().get(), "the canvas shows the last saved picture again");
        assertEquals(1, vm.gallery().items().size());
    }

    @Test
    void modelDefaultsFollowTheModelAndTurboMeansFourStepsWithoutGuidance() {
        vm.parameters().stepsProperty().set(50);
        engine.modelName = "sd3.5-large-turbo";
        Path other = tmp.resolve("models/turbo");
        vm.models().addFolder(other);
        assertEquals(4, vm.parameters().stepsProperty().get());
        assertEquals(0.0, vm.parameters().guidanceProperty().get());
        assertEquals(64, vm.parameters().widthProperty().get());
    }

    @Test
    void aModelsRecommendedGuidanceIsItsDefaultAndAnotherModelBringsBackSd3s() throws Exception {
        Path small = Files.createDirectories(tmp.resolve("models/small"));
        Files.writeString(small.resolve(ModelHints.FILE), "{\"guidance\": 2.5}");
        vm.models().addFolder(small);
        assertEquals(2.5, vm.parameters().guidanceProperty().get(), "chosen: the guidance it recommends");
        vm.models().addFolder(Files.createDirectories(tmp.resolve("models/plain")));
        assertEquals(7.0, vm.parameters().guidanceProperty().get(), "a model without one: SD3's 7");

        Files.writeString(model.resolve(ModelHints.FILE), "{\"guidance\": 2}");
        StudioViewModel firstStart = Studio.create(new AppDirs(tmp.resolve("fresh"), tmp.resolve("fresh-data")), engine,
                new DirectTaskRunner(), Optional.of(model));
        assertEquals(2.0, firstStart.parameters().guidanceProperty().get(), "the very first start, on the built-in model");
    }

    @Test
    void offloadAndDropT5ReachTheEngine() {
        vm.prompt().promptProperty().set("x");
        vm.parameters().offloadProperty().set(true);
        vm.parameters().dropT5Property().set(true);
        vm.parameters().widthProperty().set(64);
        vm.parameters().heightProperty().set(64);
        vm.generation().generate();
        assertEquals(MemoryMode.OFFLOAD, engine.opened.getLast().memoryMode());
        assertTrue(engine.requests.getLast().dropT5());
    }

    @Test
    void tokenCountsShowTheLimitAndWhatIsCut() {
        vm.prompt().promptProperty().set("one two three");
        TokenInfo clip = vm.prompt().tokens().getFirst();
        assertEquals("CLIP-L", clip.encoder());
        assertEquals(5, clip.count());
        assertFalse(clip.truncated());
        String longPrompt = "word ".repeat(100).trim();
        vm.prompt().promptProperty().set(longPrompt);
        clip = vm.prompt().tokens().getFirst();
        assertTrue(clip.truncated());
        assertEquals(longPrompt, clip.kept() + clip.cut());
        assertEquals(75, clip.kept().trim().split(" ").length, "75 words + BOS/EOS fit in 77");
        vm.parameters().dropT5Property().set(true);
        assertEquals(2, vm.prompt().tokens().size(), "no T5 count when T5 is dropped");
    }

    @Test
    void anIncompleteFolderSaysWhatIsMissing() {
        engine.missing = List.of("transformer");
        vm.models().addFolder(tmp.resolve("broken"));
        ModelEntry broken = vm.models().entries().stream().filter(m -> m.name().equals("broken")).findFirst().orElseThrow();
        assertFalse(broken.usable());
        vm.models().choose(broken);
        assertTrue(vm.models().noteProperty().get().contains("transformer"));
        vm.prompt().promptProperty().set("x");
        assertTrue(vm.generation().generate().isEmpty());
        assertTrue(vm.messageProperty().get().text().contains("incomplete"));
    }

    @Test
    void nanOutputIsAnErrorAndNothingIsSaved() {
        engine.nanOutput = true;
        vm.prompt().promptProperty().set("x");
        vm.parameters().widthProperty().set(64);
        vm.parameters().heightProperty().set(64);
        vm.generation().generate();
        assertEquals(UserMessage.Severity.ERROR, vm.messageProperty().get().severity());
        assertTrue(vm.messageProperty().get().text().contains("No image was saved"));
        assertTrue(vm.gallery().items().isEmpty());
        assertNull(vm.generation().runningProperty().get());
    }

    @Test
    void aSizeThatIsNotAMultipleOf16IsRefusedWithAFix() {
        vm.prompt().promptProperty().set("x");
        vm.parameters().widthProperty().set(1000);
        assertTrue(vm.generation().generate().isEmpty());
        assertTrue(vm.messageProperty().get().text().contains("992 or 1008"));
    }

    @Test
    void ourPngOffersItsParametersOtherImagesBecomeTheInitImage() throws Exception {
        vm.prompt().promptProperty().set("castle at dusk");
        vm.parameters().randomSeedProperty().set(false);
        vm.parameters().seedProperty().set(77);
        vm.parameters().widthProperty().set(64);
        vm.parameters().heightProperty().set(64);
        vm.generation().generate();
        Path png = vm.gallery().items().getFirst().file();
        vm.prompt().promptProperty().set("something else");
        vm.parameters().seedProperty().set(5);
        vm.imports().dropFiles(List.of(png));
        assertNotNull(vm.imports().offerProperty().get());
        vm.imports().acceptOffer(true);
        assertEquals("castle at dusk", vm.prompt().promptProperty().get());
        assertEquals(77, vm.parameters().seedProperty().get());
        assertNull(vm.parameters().initImageProperty().get());

        Path plain = tmp.resolve("plain.png");
        PngFiles.write(plain, new dev.sd3studio.engine.api.RgbImage(2, 2, new float[12]), Map.of());
        vm.imports().dropFiles(List.of(plain));
        assertNotNull(vm.parameters().initImageProperty().get());
        assertEquals("plain.png", vm.parameters().initImageNameProperty().get());
        vm.generation().generate();
        assertTrue(engine.requests.getLast().isImageToImage());
        vm.parameters().clearInitImage();
        assertNull(vm.parameters().initImageProperty().get());
    }

    @Test
    void deleteCanBeUndoneAndExportWritesJpegWithMetadata() throws Exception {
        vm.prompt().promptProperty().set("x");
        vm.parameters().widthProperty().set(64);
        vm.parameters().heightProperty().set(64);
        vm.generation().generate();
        vm.generation().generate();
        var gallery = vm.gallery();
        assertEquals(2, gallery.items().size());
        gallery.selected().setAll(gallery.items().getFirst());
        gallery.deleteSelected();
        assertEquals(1, gallery.items().size());
        gallery.undoDelete();
        assertEquals(2, gallery.items().size());

        gallery.selected().setAll(gallery.items());
        gallery.exportFormatProperty().set(ExportFormat.JPEG);
        gallery.exportQualityProperty().set(0.8);
        gallery.exportFolderProperty().set(tmp.resolve("out").toString());
        gallery.exportSelected();
        try (var files = Files.list(tmp.resolve("out"))) {
            List<Path> jpgs = files.toList();
            assertEquals(2, jpgs.size());
            assertTrue(Exporter.jpegComment(jpgs.getFirst()).startsWith("x\nSteps: "));
        }
    }

    @Test
    void settingsAndGallerySurviveARestart() {
        vm.prompt().promptProperty().set("kept prompt");
        vm.parameters().stepsProperty().set(9);
        vm.parameters().offloadProperty().set(true);
        vm.settings().themeProperty().set("dark");
        assertEquals(GalleryViewModel.defaultExportFolder().toString(), vm.gallery().exportFolderProperty().get(),
                "exports go to the Pictures folder until another is chosen");
        vm.gallery().exportFolderProperty().set(tmp.resolve("exports").toString());
        vm.gallery().exportFormatProperty().set(ExportFormat.JPEG);
        vm.gallery().exportMetadataProperty().set(false);
        vm.parameters().widthProperty().set(64);
        vm.parameters().heightProperty().set(64);
        vm.parameters().clipSkipProperty().set(2);
        Path lora = dev.sd3studio.app.studio.Fixtures.root().resolve("goldens-lora/sd3_lora_rank4/lora.safetensors");
        vm.loras().add(List.of(lora));
        vm.loras().items().getFirst().scaleProperty().set(0.7);
        vm.generation().generate();
        vm.close();
        StudioViewModel again = open();
        assertEquals(2, again.parameters().clipSkipProperty().get());
        assertEquals(List.of(new dev.sd3studio.engine.api.LoraSpec(lora, 0.7)), again.loras().specs(),
                "the model's LoRA list and strengths come back");
        assertEquals("kept prompt", again.prompt().promptProperty().get());
        assertEquals(9, again.parameters().stepsProperty().get());
        assertTrue(again.parameters().offloadProperty().get());
        assertEquals("dark", again.settings().themeProperty().get());
        assertEquals(tmp.resolve("exports").toString(), again.gallery().exportFolderProperty().get());
        assertEquals(ExportFormat.JPEG, again.gallery().exportFormatProperty().get());
        assertFalse(again.gallery().exportMetadataProperty().get());
        assertEquals(1, again.gallery().items().size());
        assertEquals(List.of("kept prompt"), again.prompt().history());
        assertEquals(model, again.parameters().modelProperty().get().folder());
    }

    @Test
    void loadingABatchPictureMakesThatPictureAgainAndDropsAStartImageItDidNotUse() throws Exception {
        vm.prompt().promptProperty().set("a batch");
        vm.parameters().randomSeedProperty().set(false);
        vm.parameters().seedProperty().set(5);
        vm.parameters().imagesPerPromptProperty().set(3);
        vm.parameters().widthProperty().set(64);
        vm.parameters().heightProperty().set(64);
        vm.generation().generate();
        assertEquals(3, vm.gallery().items().size());
        var third = vm.gallery().items().stream().filter(i -> "2".equals(i.parameters().get("batch_index"))).findFirst()
                .orElseThrow();
        assertEquals("3", third.parameters().get("batch_size"));

        vm.imports().setInitImage(new dev.sd3studio.engine.api.RgbImage(2, 2, new float[12]), "left over");
        vm.parameters().seedProperty().set(99);
        java.util.Map<String, String> p = new java.util.HashMap<>(third.parameters());
        p.put("negative_prompt_3", "blurry");
        p.put("clip_skip", "1");
        vm.imports().loadParameters(p);
        assertNull(vm.parameters().initImageProperty().get(), "the picture used no start image");
        assertEquals(new dev.sd3studio.engine.api.NoiseSlice(3, 2), vm.parameters().noiseSliceProperty().get());
        assertEquals(1, vm.parameters().imagesPerPromptProperty().get());
        assertTrue(vm.messageProperty().get().text().contains("picture 3 of its batch of 3"));
        vm.generation().generate();
        var request = engine.requests.getLast();
        assertEquals(new dev.sd3studio.engine.api.NoiseSlice(3, 2), request.noiseSlice());
        assertEquals(5L, request.seed());
        assertFalse(request.isImageToImage());
        assertEquals(List.of("blurry"), request.negatives3());
        assertEquals(1, request.clipSkip());

        vm.parameters().seedProperty().set(6);
        assertNull(vm.parameters().noiseSliceProperty().get(), "another seed forgets the batch position");
    }

    @Test
    void anImageToImagePictureSaysSoAndKeepsTheStartImage() {
        vm.imports().setInitImage(new dev.sd3studio.engine.api.RgbImage(64, 64, new float[64 * 64 * 3]), "photo");
        vm.prompt().promptProperty().set("from a photo");
        vm.parameters().widthProperty().set(64);
        vm.parameters().heightProperty().set(64);
        vm.generation().generate();
        var item = vm.gallery().items().getFirst();
        assertEquals("true", item.parameters().get("image_to_image"));
        assertTrue(PngMetadata.parametersText(new java.util.LinkedHashMap<>(item.parameters())).contains("Denoising strength: 0.6"));
        vm.parameters().clearInitImage();
        vm.imports().loadParameters(item.parameters());
        assertEquals(UserMessage.Severity.WARNING, vm.messageProperty().get().severity());
        assertTrue(vm.messageProperty().get().text().contains("start image"));
    }

    @Test
    void aModelsHintsGiveExamplesSizesAndAGentleNoteOffGrammar() throws Exception {
        Files.writeString(model.resolve(ModelHints.FILE), """
                {"sizes": [[64, 64]], "examples": ["a red circle"],
                 "prompt_template": "a {red|blue} {circle|square}", "prompt_hint": "Only shapes."}""");
        Files.createDirectories(model.resolve("scheduler"));
        Files.writeString(model.resolve("scheduler/scheduler_config.json"), "{\"shift\": 3.0}");
        vm.close();
        vm = open();
        assertEquals(List.of("a red circle"), vm.prompt().hintsProperty().get().examples());
        assertEquals(2, vm.parameters().presets().size(), "the trained size, then Custom");
        assertEquals(64, vm.parameters().presets().getFirst().width());
        assertEquals(3.0, vm.parameters().shiftProperty().get(), "the model's shift, not a bare 0");
        vm.prompt().promptProperty().set("a photo of a cat");
        assertEquals("Only shapes.", vm.prompt().hintProperty().get());
        vm.prompt().promptProperty().set("A blue square.");
        assertEquals("", vm.prompt().hintProperty().get(), "case and a final full stop are forgiven");
        for (int i = 0; i < 20; i++) {
            vm.prompt().randomExample();
            assertTrue(vm.prompt().hintsProperty().get().follows(vm.prompt().promptProperty().get()));
        }
    }

    @Test
    void devicesAreWhatTheDriverLists() {
        assertEquals(java.util.Map.of("cuda:0", "GPU 0 · NVIDIA H200", "cuda:1", "GPU 1 · NVIDIA A100-SXM4-80GB"),
                Devices.parse(List.of("GPU 0: NVIDIA H200 (UUID: GPU-8d1a)", "GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-77)",
                        "No devices were found")));
        assertTrue(Devices.parse(List.of("NVIDIA-SMI has failed because it couldn't communicate with the driver")).isEmpty());
        vm.parameters().deviceProperty().set("cuda:1");
        vm.parameters().offerDevices(java.util.Map.of("cpu", "CPU"));
        assertEquals(List.of("cpu"), vm.parameters().devices());
        assertEquals("cpu", vm.parameters().deviceProperty().get());
        assertTrue(vm.parameters().deviceNoteProperty().get().contains("Runs on CPU")
                || vm.parameters().deviceNoteProperty().get().contains("CPU"), vm.parameters().deviceNoteProperty().get());
    }

    @Test
    void progressTextShowsStepSpeedAndEta() {
        assertEquals("Step 2/4 · 2.0 it/s · ETA 0:01", new Progress(2, 4, java.time.Duration.ofSeconds(1)).text());
        assertEquals("Step 1/3 · 2.0 s/it · ETA 0:04", new Progress(1, 3, java.time.Duration.ofSeconds(2)).text());
    }
}
