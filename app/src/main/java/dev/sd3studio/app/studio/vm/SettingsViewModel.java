package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.GalleryStore;
import dev.sd3studio.app.settings.Settings;
import dev.sd3studio.app.settings.SettingsStore;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/** What the studio keeps between runs: theme, window layout, the editor's state, the model folders and export choices. */
public final class SettingsViewModel {
    private final SettingsStore store;
    private final GalleryStore galleryStore;
    private final PromptViewModel prompt;
    private final ParametersViewModel params;
    private final ModelListViewModel models;
    private final GalleryViewModel gallery;
    private final LoraListViewModel loras;
    private final Consumer<UserMessage> messages;
    private final StringProperty theme = new SimpleStringProperty("system");
    private final ObjectProperty<Settings.Window> window = new SimpleObjectProperty<>(Settings.Window.defaults());

    SettingsViewModel(SettingsStore store, GalleryStore galleryStore, PromptViewModel prompt, ParametersViewModel params,
                      ModelListViewModel models, GalleryViewModel gallery, LoraListViewModel loras,
                      Consumer<UserMessage> messages) {
        this.store = store;
        this.gallery = gallery;
        this.galleryStore = galleryStore;
        this.prompt = prompt;
        this.params = params;
        this.models = models;
        this.loras = loras;
        this.messages = messages;
    }

    /** "system", "light" or "dark". */
    public StringProperty themeProperty() { return theme; }
    public ObjectProperty<Settings.Window> windowProperty() { return window; }

    /** Puts the saved state back into the editor, then lists the models and selects the saved one. */
    void restore() {
        // on the very first start the model's defaults (size, steps) beat the generic ones
        boolean firstRun = !Files.exists(store.file());
        Settings s = store.load();
        // once per start: the damaged file was moved aside, the next start reads the repaired one
        store.damage().ifPresent(d -> messages.accept(UserMessage.warning(d)));
        theme.set(s.theme());
        window.set(s.window());
        Settings.Parameters p = s.parameters();
        prompt.promptProperty().set(p.prompt());
        prompt.negativeProperty().set(p.negative());
        prompt.prompt2Property().set(p.prompt2());
        prompt.prompt3Property().set(p.prompt3());
        prompt.perEncoderProperty().set(!p.prompt2().isEmpty() || !p.prompt3().isEmpty());
        prompt.restoreHistory(s.promptHistory());
        params.restore(p);
        gallery.restoreExport(s.export());
        loras.restoreFolders(s.loraFolders());
        loras.restoreAll(s.loras()); // before the models, so the selected one shows its list
        models.restore(s.modelFolders(), s.selectedModel(), firstRun);
        saveExportChoicesWhenMade();
    }

    /**
     * Export choices are saved the moment they are made: unlike the editor's state (saved with every
     * generation) nothing else would save them before an unclean end. The file is small and written
     * atomically, so a write per change (a quality slider's drag included) costs nothing noticeable.
     */
    private void saveExportChoicesWhenMade() {
        javafx.beans.InvalidationListener save = o -> save();
        gallery.exportFormatProperty().addListener(save);
        gallery.exportQualityProperty().addListener(save);
        gallery.exportMetadataProperty().addListener(save);
        gallery.exportFolderProperty().addListener(save);
    }

    public Settings snapshot() {
        ModelEntry m = params.modelProperty().get();
        var p = new Settings.Parameters(prompt.promptProperty().get(), prompt.negativeProperty().get(),
                prompt.prompt2Property().get(), prompt.prompt3Property().get(), params.widthProperty().get(),
                params.heightProperty().get(), params.stepsProperty().get(), params.guidanceProperty().get(),
                params.shiftProperty().get(), params.randomSeedProperty().get(), params.seedProperty().get(),
                params.imagesPerPromptProperty().get(), params.deviceProperty().get(), params.offloadProperty().get(),
                params.dropT5Property().get(), params.maxSequenceLengthProperty().get(), params.strengthProperty().get(),
                params.clipSkipProperty().get(), params.skipLayers().snapshot(), params.weightsProperty().get().label());
        return new Settings(window.get(), theme.get(), models.folders(),
                m == null ? null : m.folder().toString(), galleryStore.dir().toString(), p, List.copyOf(prompt.history()),
                gallery.exportSettings(), loras.snapshot(), loras.folders().stream().map(Path::toString).toList());
    }

    public void save() {
        try {
            store.save(snapshot());
        } catch (IOException e) {
            messages.accept(ErrorMessages.of(e));
        }
    }
}
