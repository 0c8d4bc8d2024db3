package dev.sd3studio.app.studio;

import dev.sd3studio.app.BuiltInModel;
import dev.sd3studio.app.gallery.GalleryStore;
import dev.sd3studio.app.settings.AppDirs;
import dev.sd3studio.app.settings.Settings;
import dev.sd3studio.app.settings.SettingsStore;
import dev.sd3studio.app.studio.task.TaskRunner;
import dev.sd3studio.app.studio.vm.GeneratorFactory;
import dev.sd3studio.app.studio.vm.StudioViewModel;

import java.nio.file.Path;
import java.util.Optional;

/** The composition root: which folders, which engine, which task runner. Tests call it with fakes. */
public final class Studio {
    private Studio() {
    }

    public static StudioViewModel create(AppDirs dirs, GeneratorFactory factory, TaskRunner runner, Optional<Path> builtIn) {
        SettingsStore settings = new SettingsStore(dirs.settingsFile());
        Settings s = settings.load();
        Path gallery = s.outputFolder() != null ? Path.of(s.outputFolder()) : dirs.defaultGallery();
        StudioViewModel vm = new StudioViewModel(runner, settings, new GalleryStore(gallery), factory, builtIn);
        vm.start();
        return vm;
    }

    public static StudioViewModel create(AppDirs dirs, TaskRunner runner) {
        return create(dirs, GeneratorFactory.ENGINE, runner, BuiltInModel.find());
    }
}
