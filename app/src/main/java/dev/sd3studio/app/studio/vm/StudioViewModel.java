package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.GalleryStore;
import dev.sd3studio.app.settings.SettingsStore;
import dev.sd3studio.app.studio.task.TaskRunner;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The studio's root view-model: wires the editor (prompt, parameters), the model list, the token
 * counter, the generation queue, imports, the gallery and the settings together, and owns the one
 * message banner they all report to. Each concern lives in its own view-model; this class only
 * builds them, starts them and shuts them down.
 */
public final class StudioViewModel implements AutoCloseable {
    private final TaskRunner runner;
    private final EngineSession session;
    private final ObjectProperty<UserMessage> message = new SimpleObjectProperty<>();
    private final PromptViewModel prompt = new PromptViewModel();
    private final ParametersViewModel params = new ParametersViewModel();
    private final TokenCounter tokens;
    private final ModelListViewModel models;
    private final GalleryViewModel gallery;
    private final MaskEditorViewModel mask;
    private final GenerationQueue generation;
    private final ImportViewModel imports;
    private final SettingsViewModel settings;
    private final LoraListViewModel loras;
    private final ViewerViewModel viewer;

    public StudioViewModel(TaskRunner runner, SettingsStore settingsStore, GalleryStore galleryStore,
                           GeneratorFactory factory, Optional<Path> builtIn) {
        this.runner = runner;
        this.session = new EngineSession(factory);
        this.tokens = new TokenCounter(runner, session, prompt, params);
        this.models = new ModelListViewModel(runner, factory, builtIn, session, prompt, params, tokens,
                message::set);
        this.gallery = new GalleryViewModel(runner, galleryStore, message::set, m -> {
            if (message.get() == m) {
                message.set(null);
            }
        });
        this.loras = new LoraListViewModel(runner, session, params, message::set);
        this.settings = new SettingsViewModel(settingsStore, galleryStore, prompt, params, models, gallery, loras,
                message::set);
        this.mask = new MaskEditorViewModel(runner, message::set);
        params.initImageProperty().addListener((o, a, img) -> mask.reset(img == null ? 0 : img.width(),
                img == null ? 0 : img.height()));
        this.generation = new GenerationQueue(runner, session, galleryStore, gallery, prompt, params, mask,
                message::set, settings::save);
        this.imports = new ImportViewModel(runner, prompt, params, mask, loras, message::set);
        generation.useLoras(loras::specs);
        this.viewer = new ViewerViewModel(gallery);
    }

    public PromptViewModel prompt() { return prompt; }
    public ParametersViewModel parameters() { return params; }
    public ModelListViewModel models() { return models; }
    public TokenCounter tokens() { return tokens; }
    public GalleryViewModel gallery() { return gallery; }
    /** The inpainting mask over the start image. */
    public MaskEditorViewModel mask() { return mask; }
    public GenerationQueue generation() { return generation; }
    public ImportViewModel imports() { return imports; }
    public SettingsViewModel settings() { return settings; }
    public LoraListViewModel loras() { return loras; }
    public ViewerViewModel viewer() { return viewer; }
    /** The banner: the latest error, warning or note from any part of the studio. */
    public ObjectProperty<UserMessage> messageProperty() { return message; }

    /** Restores settings, lists the models and loads the gallery. */
    public void start() {
        settings.restore();
        gallery.reload();
        runner.run("devices", Devices::detect, params::offerDevices, e -> { });
    }

    /** Saves settings, cancels the running job and closes the engine. */
    @Override
    public void close() {
        settings.save();
        generation.stopAll();
        // closing waits for a cancelled generation to stop (it holds the session lock)
        runner.run("close-engine", () -> {
            session.close();
            return true;
        }, ok -> { }, e -> { });
    }
}
