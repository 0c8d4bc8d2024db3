package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.hub.HubClient;
import dev.sd3studio.app.hub.HubSettings;
import dev.sd3studio.app.hub.HubTestServer;
import dev.sd3studio.app.hub.ModelCatalogue;
import dev.sd3studio.app.hub.T5Variant;
import dev.sd3studio.app.studio.Fixtures;
import dev.sd3studio.app.studio.task.DirectTaskRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The catalogue dialog's logic against the loopback Hub: size first, then the download lands in the model list. */
class ModelCatalogueViewModelTest {
    @Test
    void checkShowsTheSizeAndDownloadAddsTheModel(@TempDir Path tmp) throws Exception {
        try (HubTestServer hub = new HubTestServer(Files.createDirectories(tmp.resolve("hub")))) {
            hub.addRepo("test-org/tiny-sd3-onnx", Fixtures.tinySd3());
            List<Path> added = new ArrayList<>();
            ModelCatalogueViewModel vm = new ModelCatalogueViewModel(new DirectTaskRunner(),
                    new HubClient(new HubSettings(hub.uri(), Optional.empty(), "none")), tmp.resolve("models"), added::add);
            assertEquals(7, vm.entries().size());

            vm.repoProperty().set("not a repo id");
            vm.check();
            assertEquals(ModelCatalogueViewModel.State.FAILED, vm.stateProperty().get());

            vm.repoProperty().set("test-org/tiny-sd3-onnx");
            vm.noT5Property().set(true);
            vm.check();
            assertEquals(ModelCatalogueViewModel.State.READY, vm.stateProperty().get(), vm.detailsProperty().get());
            assertTrue(vm.detailsProperty().get().contains("without T5") && vm.detailsProperty().get().contains("MB"),
                    vm.detailsProperty().get());
            vm.download();
            assertEquals(ModelCatalogueViewModel.State.DONE, vm.stateProperty().get(), vm.detailsProperty().get());
            Path dest = tmp.resolve("models/test-org--tiny-sd3-onnx");
            assertEquals(List.of(dest), added);
            assertTrue(Files.isRegularFile(dest.resolve("transformer/model.onnx")));
            assertTrue(Files.notExists(dest.resolve("text_encoder_3")));
            assertEquals(1.0, vm.progressProperty().get());
        }
    }

    @Test
    void checkpointEntriesAreListedMarkedAndDownloadTheirFileWithTheChosenT5(@TempDir Path tmp) throws Exception {
        String repo = "stabilityai/stable-diffusion-3.5-large-turbo";
        Path source = Files.createDirectories(tmp.resolve("src/text_encoders"));
        for (String f : List.of("clip_l", "clip_g", "t5xxl_fp16", "t5xxl_fp8_e4m3fn")) {
            Files.writeString(source.resolve(f + ".safetensors"), "encoder " + f);
        }
        Files.writeString(tmp.resolve("src/sd3.5_large_turbo.safetensors"), "the checkpoint");
        Files.createDirectories(tmp.resolve("src/transformer"));
        Files.writeString(tmp.resolve("src/transformer/diffusion_pytorch_model.safetensors"), "diffusers copy");
        try (HubTestServer hub = new HubTestServer(Files.createDirectories(tmp.resolve("hub")))) {
            hub.addRepo(repo, tmp.resolve("src"));
            List<Path> added = new ArrayList<>();
            ModelCatalogueViewModel vm = new ModelCatalogueViewModel(new DirectTaskRunner(),
                    new HubClient(new HubSettings(hub.uri(), Optional.empty(), "none")), tmp.resolve("models"), added::add);

            List<ModelCatalogue.Entry> checkpoints = vm.entries().stream().filter(ModelCatalogue.Entry::isCheckpoint).toList();
            assertEquals(4, checkpoints.size());
            assertEquals(3, vm.entries().stream().filter(e -> e.kind().equals("ONNX export")).count());
            assertFalse(vm.checkpointProperty().get());
            assertEquals(T5Variant.FP8, vm.t5VariantProperty().get());

            vm.t5VariantProperty().set(T5Variant.NONE);
            vm.pick(checkpoints.stream().filter(e -> e.repo().equals(repo)).findFirst().orElseThrow());
            assertTrue(vm.checkpointProperty().get());
            assertEquals(ModelCatalogueViewModel.State.READY, vm.stateProperty().get(), vm.detailsProperty().get());
            String details = vm.detailsProperty().get();
            assertTrue(details.contains("[checkpoint (gated)]") && details.contains("accept the licence")
                    && details.contains("3 files (Stability AI checkpoint layout)") && details.contains("without T5"), details);

            // changing the T5 choice asks the Hub again
            vm.t5VariantProperty().set(T5Variant.FP16);
            assertEquals(ModelCatalogueViewModel.State.IDLE, vm.stateProperty().get());
            vm.check();
            assertTrue(vm.detailsProperty().get().matches("(?s).*4 files \\(Stability AI checkpoint layout\\), [0-9.]+ B with the fp16 T5.*"), vm.detailsProperty().get());
            vm.download();
            assertEquals(ModelCatalogueViewModel.State.DONE, vm.stateProperty().get(), vm.detailsProperty().get());
            Path dest = tmp.resolve("models/stabilityai--stable-diffusion-3.5-large-turbo");
            assertEquals(List.of(dest.resolve("sd3.5_large_turbo.safetensors")), added);
            assertTrue(Files.isRegularFile(dest.resolve("text_encoders/t5xxl_fp16.safetensors")));
            assertTrue(Files.notExists(dest.resolve("text_encoders/t5xxl_fp8_e4m3fn.safetensors")));
            assertTrue(Files.notExists(dest.resolve("transformer")));

            vm.repoProperty().set("test-org/tiny-sd3-onnx");
            assertFalse(vm.checkpointProperty().get());
        }
    }
}
