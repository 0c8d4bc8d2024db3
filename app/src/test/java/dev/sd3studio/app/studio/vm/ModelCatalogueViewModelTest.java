package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.hub.HubClient;
import dev.sd3studio.app.hub.HubSettings;
import dev.sd3studio.app.hub.HubTestServer;
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
            assertEquals(3, vm.entries().size());

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
}
