package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.BuiltInModel;
import dev.sd3studio.app.studio.task.TaskRunner;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.api.ModelReport;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The model picker: the built-in model and the folders the user added, each checked for completeness;
 * choosing one opens it in the background to learn its defaults and make token counts live. The
 * selection itself is {@link ParametersViewModel#modelProperty()}, set only through this class.
 */
public final class ModelListViewModel {
    private final TaskRunner runner;
    private final GeneratorFactory factory;
    private final Optional<Path> builtIn;
    private final EngineSession session;
    private final ParametersViewModel params;
    private final PromptViewModel prompt;
    private final TokenCounter tokens;
    private final Consumer<UserMessage> messages;
    private final ObservableList<ModelEntry> entries = FXCollections.observableArrayList();
    private final StringProperty note = new SimpleStringProperty("");
    private final List<String> folders = new ArrayList<>();

    ModelListViewModel(TaskRunner runner, GeneratorFactory factory, Optional<Path> builtIn, EngineSession session,
                       PromptViewModel prompt, ParametersViewModel params, TokenCounter tokens,
                       Consumer<UserMessage> messages) {
        this.prompt = prompt;
        this.runner = runner;
        this.factory = factory;
        this.builtIn = builtIn;
        this.session = session;
        this.params = params;
        this.tokens = tokens;
        this.messages = messages;
        // another device: open the model there now, so the note says what will run before Generate
        params.deviceProperty().addListener((o, a, d) -> {
            ModelEntry m = params.modelProperty().get();
            if (m != null && m.usable()) {
                select(m, false);
            }
        });
    }

    /** Every model folder, each with what it lacks (the picker's items). */
    public ObservableList<ModelEntry> entries() { return entries; }
    /** The chosen model's name and size, what it lacks, or how to get a model. */
    public StringProperty noteProperty() { return note; }

    /** The folders the user added, as saved in the settings. */
    List<String> folders() {
        return List.copyOf(folders);
    }

    /**
     * Lists the restored folders and selects the restored model.
     *
     * @param applyDefaults the model's defaults replace the restored parameters (the very first start)
     */
    void restore(List<String> savedFolders, String selected, boolean applyDefaults) {
        folders.clear();
        folders.addAll(savedFolders);
        refresh(selected, applyDefaults);
    }

    /** Adds a folder and selects it; its defaults replace the current parameters. */
    /** A dropped .safetensors that is a whole model (added here), not a LoRA (added to the selected model). */
    public static boolean isCheckpoint(Path file) {
        return dev.sd3studio.engine.Sd3Engine.isCheckpointFile(file);
    }

    /** Adds a model folder, a .safetensors checkpoint file or a diffusers folder to the list and selects it. */
    public void addFolder(Path folder) {
        String f = folder.toAbsolutePath().normalize().toString();
        if (!folders.contains(f)) {
            folders.add(f);
        }
        refresh(f, true);
    }

    /** Forgets an added folder (the built-in model stays). */
    public void remove(ModelEntry entry) {
        if (entry != null && !entry.builtIn()) {
            folders.remove(entry.folder().toString());
            refresh(null, true);
        }
    }

    /** The user picked {@code entry}: it opens and its defaults replace the current parameters. */
    public void choose(ModelEntry entry) {
        if (!Objects.equals(entry, params.modelProperty().get())) {
            select(entry, true);
        }
    }

    private void refresh(String select, boolean applyDefaults) {
        List<Path> all = new ArrayList<>();
        builtIn.ifPresent(all::add);
        folders.forEach(f -> all.add(Path.of(f)));
        runner.run("check-models", () -> all.stream().map(this::entry).toList(), list -> {
            entries.setAll(list);
            ModelEntry pick = list.stream().filter(e -> e.folder().toString().equals(select)).findFirst()
                    .or(() -> list.stream().filter(ModelEntry::usable).findFirst()).orElse(null);
            if (pick == null || !pick.equals(params.modelProperty().get())) {
                select(pick, applyDefaults); // the same model stays open with the user's parameters
            }
        }, e -> messages.accept(ErrorMessages.of(e)));
    }

    private ModelEntry entry(Path folder) {
        boolean isBuiltIn = builtIn.isPresent() && builtIn.get().equals(folder);
        String name = folder.getFileName() == null ? folder.toString() : folder.getFileName().toString();
        try {
            ModelReport r = factory.layout(folder);
            return new ModelEntry(folder, name, isBuiltIn, r.missingRequired());
        } catch (EngineException e) {
            return new ModelEntry(folder, name, isBuiltIn, List.of(e.getMessage()));
        }
    }

    /** Selects {@code m} and opens it to learn its defaults and make token counts live. */
    private void select(ModelEntry m, boolean applyDefaults) {
        params.modelProperty().set(m);
        if (m == null) {
            note.set(entries.isEmpty()
                    ? "No model yet. Add a model (an SD3 ONNX export, a diffusers folder or a .safetensors checkpoint) with “Add model…”; the built-in demo"
                    + " model appears here once it is installed at " + BuiltInModel.RELATIVE + "."
                    : "Choose a model.");
            tokens.clear();
            return;
        }
        if (!m.usable()) {
            note.set("Not a complete model — missing " + String.join(", ", m.missing())
                    + ". Add the missing parts or choose another folder.");
            tokens.clear();
            return;
        }
        note.set("Loading " + m.name() + "…");
        runner.run("open-model", () -> {
            var opts = params.engineOptions();
            ModelHints hints = ModelHints.read(m.folder());
            return session.use(m.folder(), opts, g -> new Opened(g.info(), g.deviceFallbackReason().orElse(""), hints));
        }, opened -> {
            prompt.hintsProperty().set(opened.hints());
            params.offerSizes(opened.hints());
            if (applyDefaults) {
                params.applyModelDefaults(opened.info(), opened.hints());
                params.showDefaultShift(opened.hints());
            } else {
                params.sizeMultipleProperty().set(opened.info().sizeMultiple());
                params.skipLayers().offer(opened.info(), false);
                params.showDefaultShift(opened.hints());
            }
            Sd3Generator.ModelInfo info = opened.info();
            note.set(info.name() + " · " + info.defaultWidth() + "×" + info.defaultHeight()
                    + (info.hasT5() ? "" : " · no T5")
                    + (info.warnings().isEmpty() ? "" : "\n" + String.join("\n", info.warnings())));
            // the device that will really run, known before Generate
            params.deviceNoteProperty().set(!opened.fallback().isEmpty() ? opened.fallback()
                    : "Runs on " + params.deviceName(params.deviceProperty().get()) + ".");
            tokens.countNow();
        }, e -> {
            note.set("Could not open " + m.name() + ".");
            messages.accept(ErrorMessages.of(e));
        });
    }

    private record Opened(Sd3Generator.ModelInfo info, String fallback, ModelHints hints) {
    }
}
