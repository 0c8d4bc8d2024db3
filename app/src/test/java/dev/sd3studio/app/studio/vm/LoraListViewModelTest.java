package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.FakeFactory;
import dev.sd3studio.app.studio.Fixtures;
import dev.sd3studio.app.studio.Studio;
import dev.sd3studio.app.studio.task.DirectTaskRunner;
import dev.sd3studio.engine.api.LoraSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The studio's LoRA list: per model, scales reach the request, pickles refused, the match report on demand. */
class LoraListViewModelTest {
    private static final Path LORA = Fixtures.root().resolve("goldens-lora/sd3_lora_rank4/lora.safetensors");

    @TempDir
    Path tmp;

    @Test
    void listPerModelAndTheScalesReachTheGeneration() throws Exception {
        FakeFactory engine = new FakeFactory();
        Path model = Files.createDirectories(tmp.resolve("models/fake-sd3"));
        try (StudioViewModel vm = Studio.create(new AppDirs(tmp.resolve("config"), tmp.resolve("data")), engine,
                new DirectTaskRunner(), Optional.of(model))) {
            Path pickle = Files.write(tmp.resolve("style.bin"), new byte[] {(byte) 0x80, 2});
            vm.loras().add(List.of(LORA, pickle));
            assertEquals(1, vm.loras().items().size());
            assertTrue(vm.messageProperty().get().text().contains("style.bin is not a .safetensors LoRA"),
                    vm.messageProperty().get().text());
            vm.loras().items().getFirst().scaleProperty().set(0.5);

            vm.prompt().promptProperty().set("x");
            vm.parameters().stepsProperty().set(1);
            assertTrue(vm.generation().generate().isPresent());
            assertEquals(List.of(new LoraSpec(LORA, 0.5)), engine.requests.getLast().loras());

            vm.models().addFolder(Files.createDirectories(tmp.resolve("models/other")));
            assertTrue(vm.loras().items().isEmpty(), "another model has its own list");
            assertTrue(vm.loras().specs().isEmpty());
            vm.models().choose(vm.models().entries().stream().filter(e -> e.folder().equals(model)).findFirst().orElseThrow());
            assertEquals(List.of(new LoraSpec(LORA, 0.5)), vm.loras().specs());

            vm.loras().remove(vm.loras().items().getFirst());
            assertTrue(vm.loras().specs().isEmpty());
        }
    }

    @Test
    void loadingAPicturesParametersBringsBackItsLorasOrSaysWhichAreMissing() throws Exception {
        FakeFactory engine = new FakeFactory();
        Path model = Files.createDirectories(tmp.resolve("models/fake-sd3"));
        Path copy = Files.copy(LORA, tmp.resolve("moved-later.safetensors"));
        try (StudioViewModel vm = Studio.create(new AppDirs(tmp.resolve("config"), tmp.resolve("data")), engine,
                new DirectTaskRunner(), Optional.of(model))) {
            vm.prompt().promptProperty().set("x");
            vm.parameters().stepsProperty().set(1);
            vm.loras().add(List.of(LORA, copy));
            vm.loras().items().getFirst().scaleProperty().set(0.5);
            vm.generation().generate();
            var withLoras = vm.gallery().items().getFirst().parameters();
            vm.loras().remove(vm.loras().items().getLast());
            vm.loras().remove(vm.loras().items().getFirst());
            vm.generation().generate();
            var without = vm.gallery().items().getFirst().parameters();

            vm.imports().loadParameters(withLoras);
            assertEquals(List.of(new LoraSpec(LORA, 0.5), new LoraSpec(copy, 1.0)), vm.loras().specs());
            vm.generation().generate();
            assertEquals(List.of(new LoraSpec(LORA, 0.5), new LoraSpec(copy, 1.0)), engine.requests.getLast().loras());

            vm.imports().loadParameters(without);
            assertTrue(vm.loras().specs().isEmpty(), "a picture made without LoRAs clears the list");

            Files.delete(copy);
            vm.imports().loadParameters(withLoras);
            assertEquals(List.of(new LoraSpec(LORA, 0.5)), vm.loras().specs());
            assertEquals(dev.sd3studio.app.studio.vm.UserMessage.Severity.WARNING, vm.messageProperty().get().severity());
            assertTrue(vm.messageProperty().get().text().contains("moved-later.safetensors"), vm.messageProperty().get().text());
        }
    }

    @Test
    void aPicturesLorasAreLookedForOnlyInTheUsersLoraFoldersByNameAndHash() throws Exception {
        FakeFactory engine = new FakeFactory();
        Path model = Files.createDirectories(tmp.resolve("models/fake-sd3"));
        Path outside = Files.copy(LORA, Files.createDirectories(tmp.resolve("downloads")).resolve("outside.safetensors"));
        Path mine = Files.createDirectories(tmp.resolve("my-loras"));
        Path style = Files.copy(LORA, mine.resolve("style.safetensors"));
        Path other = Files.createDirectories(tmp.resolve("other-loras"));
        Path sameName = Files.writeString(other.resolve("lora.safetensors"), "a different file of the same name");
        String sha = dev.sd3studio.app.gallery.FileHashes.shared().sha256(LORA);
        try (StudioViewModel vm = Studio.create(new AppDirs(tmp.resolve("config"), tmp.resolve("data")), engine,
                new DirectTaskRunner(), Optional.of(model))) {
            vm.loras().add(List.of(style, sameName));
            vm.loras().remove(vm.loras().items().getLast());
            vm.loras().remove(vm.loras().items().getFirst());
            assertTrue(vm.loras().folders().containsAll(List.of(mine, other)), "folders stay known after removal");

            vm.imports().loadParameters(java.util.Map.of("prompt", "x", "loras",
                    outside.toAbsolutePath() + ":0.5\nstyle.safetensors:0.8 sha256=" + sha
                            + "\nlora.safetensors:0.7 sha256=" + sha));
            assertEquals(List.of(new LoraSpec(style, 0.8)), vm.loras().specs(),
                    "found by hash in the user's folder; the file outside them and the same-named other file are not used");
            String warning = vm.messageProperty().get().text();
            assertTrue(warning.contains("'outside.safetensors'") && warning.contains("'lora.safetensors' (sha256 "
                    + sha.substring(0, 8)) && warning.contains("not in your LoRA folders"), warning);

            vm.settings().save();
            assertTrue(new dev.sd3studio.app.settings.SettingsStore(tmp.resolve("config/settings.json")).load()
                    .loraFolders().containsAll(List.of(mine.toString(), other.toString())), "remembered for the next session");
        }
    }

    @Test
    void detailsShowTheEnginesMatchReport() throws Exception {
        try (StudioViewModel vm = Studio.create(new AppDirs(tmp.resolve("config"), tmp.resolve("data")),
                GeneratorFactory.ENGINE, new DirectTaskRunner(), Optional.of(Fixtures.tinySd3()))) {
            assertNull(vm.loras().reportProperty().get());
            vm.loras().add(List.of(LORA));
            vm.loras().items().getFirst().scaleProperty().set(0.8);
            vm.loras().showReport();
            String report = vm.loras().reportProperty().get();
            assertTrue(report.startsWith("lora.safetensors:0.8: 15 layers changed"), report);
            assertTrue(report.contains("transformer.transformer_blocks.0.attn.to_q -> transformer"), report);
        }
    }

    @Test
    void aLoraForAnotherModelIsMarkedWhenAddedNamedWithoutItsFolderAndLeftOutOfGenerations() throws Exception {
        FakeFactory engine = new FakeFactory();
        Path model = Files.createDirectories(tmp.resolve("models/fake-sd3"));
        Path good = Files.copy(LORA, tmp.resolve("good.safetensors"));
        Path foreign = Files.copy(LORA, Files.createDirectories(tmp.resolve("downloads/for-flux")).resolve("foreign.safetensors"));
        engine.foreignLoras = java.util.Set.of("foreign.safetensors");
        try (StudioViewModel vm = Studio.create(new AppDirs(tmp.resolve("config"), tmp.resolve("data")), engine,
                new DirectTaskRunner(), Optional.of(model))) {
            vm.loras().add(List.of(good, foreign));
            assertEquals(List.of(false, true), vm.loras().items().stream().map(LoraListViewModel.Item::isForeign).toList());
            String text = vm.messageProperty().get().text();
            assertEquals(UserMessage.Severity.WARNING, vm.messageProperty().get().severity());
            assertTrue(text.contains("foreign.safetensors") && text.contains("made for a different model"), text);
            assertTrue(!text.contains(tmp.toString()) && !text.contains("for-flux"), "no folder in the message: " + text);

            vm.prompt().promptProperty().set("x");
            vm.parameters().stepsProperty().set(1);
            assertTrue(vm.generation().generate().isPresent());
            assertEquals(List.of(new LoraSpec(good, 1.0)), engine.requests.getLast().loras(),
                    "the marked LoRA is left out, the others still apply");
            vm.settings().save();
            assertTrue(new dev.sd3studio.app.settings.SettingsStore(tmp.resolve("config/settings.json")).load()
                    .loras().values().stream().flatMap(List::stream).noneMatch(l -> l.contains("foreign")),
                    "not saved as a silent entry for the next session");
        }
    }

    @Test
    void theTinySd3LoraIsRecognisedAsForeignOnTheDemoModel() throws Exception {
        Path demo = dev.sd3studio.app.BuiltInModel.find().orElseThrow();
        try (StudioViewModel vm = Studio.create(new AppDirs(tmp.resolve("config"), tmp.resolve("data")),
                GeneratorFactory.ENGINE, new DirectTaskRunner(), Optional.of(demo))) {
            vm.loras().add(List.of(LORA));
            assertTrue(vm.loras().items().getFirst().isForeign(), "no layer of the demo model matches the tiny-sd3 LoRA");
            assertTrue(vm.loras().specs().isEmpty());
            String text = vm.messageProperty().get().text();
            assertTrue(text.contains("lora.safetensors is made for a different model")
                    && !text.contains(LORA.getParent().toString()), text);
        }
    }
}
