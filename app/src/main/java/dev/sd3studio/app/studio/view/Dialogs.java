package dev.sd3studio.app.studio.view;

import dev.sd3studio.app.gpu.GpuPack;
import dev.sd3studio.app.gpu.GpuPackInstaller;
import dev.sd3studio.app.gpu.GpuPackRecipe;
import dev.sd3studio.app.gpu.GpuProbe;
import dev.sd3studio.app.hub.HubClient;
import dev.sd3studio.app.hub.HubSettings;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.studio.task.FxTaskRunner;
import dev.sd3studio.app.studio.vm.GpuViewModel;
import dev.sd3studio.app.studio.vm.ModelCatalogueViewModel;
import dev.sd3studio.app.studio.vm.ModelListViewModel;
import javafx.stage.Stage;
import javafx.stage.Window;

import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * The model catalogue and GPU dialogs, one of each per window, made on first use: a download or an
 * install keeps running while its dialog is closed and shows its progress when it is opened again.
 */
final class Dialogs {
    private Dialogs() {
    }

    static void showCatalogue(Window owner, ModelListViewModel models) {
        show(owner, "sd3studio.catalogue", () -> new ModelCatalogueDialog(owner, new ModelCatalogueViewModel(new FxTaskRunner(),
                new HubClient(hubSettings()), AppDirs.detect().data().resolve("models"), models::addFolder)));
    }

    /** A malformed HF_ENDPOINT must not keep the dialog from opening: the public Hub is used then. */
    private static HubSettings hubSettings() {
        try {
            return HubSettings.fromEnvironment();
        } catch (IllegalArgumentException e) {
            return new HubSettings(java.net.URI.create(HubSettings.DEFAULT_ENDPOINT), java.util.Optional.empty(), "none");
        }
    }

    static void showGpu(Window owner) {
        Path home = GpuPack.home(AppDirs.detect());
        show(owner, "sd3studio.gpu", () -> new GpuDialog(owner, new GpuViewModel(new FxTaskRunner(),
                () -> GpuProbe.system().status(GpuPack.find(home)), new GpuPackInstaller(home), GpuPackRecipe.standard())));
    }

    private static void show(Window owner, String key, Supplier<Stage> make) {
        Stage dialog = (Stage) owner.getProperties().computeIfAbsent(key, k -> make.get());
        dialog.show();
        dialog.toFront();
    }
}
