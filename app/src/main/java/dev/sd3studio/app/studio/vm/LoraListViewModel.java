package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.LoraFinder;
import dev.sd3studio.app.gallery.RecordedLora;
import dev.sd3studio.app.studio.task.TaskRunner;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.LoraSpec;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The LoRAs of the selected model, each with its scale: a list per model (switching models shows that
 * model's list), files added by the file chooser or by dropping a {@code .safetensors} onto the window,
 * and the engine's match report one click away. Generations take {@link #specs()}.
 */
public final class LoraListViewModel {
    /** One LoRA in the list; the slider binds to {@link #scaleProperty()}. */
    public static final class Item {
        private final Path file;
        private final DoubleProperty scale = new SimpleDoubleProperty(LoraSpec.DEFAULT_SCALE);
        private final javafx.beans.property.BooleanProperty foreign = new javafx.beans.property.SimpleBooleanProperty();

        Item(Path file) {
            this.file = file;
        }

        public Path file() { return file; }
        public String name() { return file.getFileName().toString(); }
        public DoubleProperty scaleProperty() { return scale; }

        /**
         * True once the engine found that no layer of the model matches this LoRA: it was made for another
         * model, so it stays in the list (marked) but generations leave it out instead of failing.
         */
        public javafx.beans.property.ReadOnlyBooleanProperty foreignProperty() { return foreign; }
        public boolean isForeign() { return foreign.get(); }
    }

    /** The row text and the message for a LoRA no layer of the model matches. */
    public static final String FOREIGN = "made for a different model";

    private final TaskRunner runner;
    private final EngineSession session;
    private final ParametersViewModel params;
    private final Consumer<UserMessage> messages;
    private final Map<Path, ObservableList<Item>> perModel = new HashMap<>();
    private final ObservableList<Item> items = FXCollections.observableArrayList();
    private final StringProperty report = new SimpleStringProperty();
    private final Set<Path> knownFolders = new LinkedHashSet<>();

    LoraListViewModel(TaskRunner runner, EngineSession session, ParametersViewModel params, Consumer<UserMessage> messages) {
        this.runner = runner;
        this.session = session;
        this.params = params;
        this.messages = messages;
        params.modelProperty().addListener((obs, old, now) -> showListOf(now == null ? null : now.folder()));
        showListOf(params.modelProperty().get() == null ? null : params.modelProperty().get().folder());
    }

    private void showListOf(Path model) {
        items.setAll(model == null ? List.of() : perModel.computeIfAbsent(model, m -> FXCollections.observableArrayList()));
        report.set(null);
    }

    private ObservableList<Item> current() {
        var m = params.modelProperty().get();
        return m == null ? null : perModel.computeIfAbsent(m.folder(), f -> FXCollections.observableArrayList());
    }

    /** The selected model's LoRAs, in order. */
    public ObservableList<Item> items() { return items; }

    /** The last match report, as text; null until "Details" is asked for. */
    public StringProperty reportProperty() { return report; }

    /** Adds {@code .safetensors} files to the selected model's list; anything else gets a message. */
    public void add(List<Path> files) {
        ObservableList<Item> list = current();
        if (list == null) {
            messages.accept(UserMessage.warning("Choose a model first: LoRAs are kept per model."));
            return;
        }
        for (Path f : files) {
            String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
            if (!name.endsWith(".safetensors")) {
                messages.accept(UserMessage.warning(f.getFileName() + " is not a .safetensors LoRA; pickled .bin/.pt"
                        + " files are not loaded because they can run code."));
            } else if (!Files.isRegularFile(f)) {
                messages.accept(UserMessage.warning("LoRA file " + f + " does not exist."));
            } else {
                knownFolders.add(folderOf(f));
                if (list.stream().noneMatch(i -> i.file().equals(f))) {
                    Item item = new Item(f);
                    list.add(item);
                    checkFits(item);
                }
            }
        }
        items.setAll(list);
        report.set(null);
    }

    /**
     * Asks the engine whether any layer of the selected model matches a newly added LoRA; one that matches
     * none is marked (and left out of generations) with a message naming the file, not its folder. Failures
     * that are not about the LoRA (the model cannot be opened, the export cannot take LoRAs) mark nothing:
     * Generate and "Details" report those.
     */
    private void checkFits(Item item) {
        var model = params.modelProperty().get();
        if (model == null) {
            return;
        }
        EngineOptionsSupplier opts = params::engineOptions;
        List<LoraSpec> one = List.of(new LoraSpec(item.file(), LoraSpec.DEFAULT_SCALE));
        runner.run("lora-check", () -> session.use(model.folder(), opts.get(), g -> matchesNothing(g, one)),
                foreign -> {
                    if (foreign) {
                        item.foreign.set(true);
                        messages.accept(UserMessage.warning("LoRA " + item.name() + " is " + FOREIGN
                                + ": no layer of " + model.name() + " matches it. It stays in the list,"
                                + " marked, and is not used; remove it or choose the model it was made for."));
                    }
                }, e -> { });
    }

    private static boolean matchesNothing(dev.sd3studio.engine.api.Sd3Generator g, List<LoraSpec> one) {
        try {
            return g.loraReport(one).files().stream().allMatch(f -> f.matched().isEmpty());
        } catch (EngineException e) {
            // the engine's word for "no layer of the transformer matched" (or no LoRA layer it knows at all)
            return e.kind() == EngineException.Kind.INVALID_REQUEST;
        }
    }

    /**
     * Where the user keeps LoRAs: the folders of every file in any model's list, and of every file
     * they ever added. A picture's recorded LoRAs are looked for there, and nowhere else.
     */
    public List<Path> folders() {
        Set<Path> all = new LinkedHashSet<>(knownFolders);
        perModel.values().forEach(list -> list.forEach(i -> all.add(folderOf(i.file()))));
        return List.copyOf(all);
    }

    /** The remembered LoRA folders from the settings. */
    void restoreFolders(List<String> folders) {
        for (String f : folders) {
            try {
                knownFolders.add(Path.of(f));
            } catch (java.nio.file.InvalidPathException e) {
                // the settings reader already refuses these; nothing to remember
            }
        }
    }

    private static Path folderOf(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? file.toAbsolutePath() : parent;
    }

    /**
     * Makes the selected model's list exactly the LoRAs a picture records, as a {@link LoraFinder}
     * found them among {@link #folders()} (off the UI thread), so Generate makes that picture again.
     *
     * @return the recorded LoRAs that are not in the user's LoRA folders (left out of the list)
     */
    public List<RecordedLora> restore(LoraFinder.Found found) {
        ObservableList<Item> list = current();
        if (list == null) {
            return List.of();
        }
        list.setAll(found.specs().stream().map(spec -> {
            Item item = new Item(spec.file());
            item.scaleProperty().set(spec.scale());
            return item;
        }).toList());
        items.setAll(list);
        report.set(null);
        return found.missing();
    }

    /**
     * The existing files among the settings' own {@code FILE:SCALE} lines, as items; the others are
     * added to {@code missing}. Never for a picture's lines: those go through a {@link LoraFinder}.
     */
    private static List<Item> items(String lines, List<String> missing) {
        List<Item> out = new java.util.ArrayList<>();
        if (lines == null) {
            return out;
        }
        for (String line : lines.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
            try {
                LoraSpec spec = LoraSpec.parse(line);
                if (Files.isRegularFile(spec.file())) {
                    Item item = new Item(spec.file());
                    item.scaleProperty().set(spec.scale());
                    out.add(item);
                } else {
                    missing.add(spec.file().toString());
                }
            } catch (EngineException | java.nio.file.InvalidPathException e) {
                missing.add(line);
            }
        }
        return out;
    }

    /** Every model's list as saved in the settings: model folder to {@code FILE:SCALE} lines. */
    public Map<String, List<String>> snapshot() {
        Map<String, List<String>> out = new java.util.TreeMap<>();
        perModel.forEach((model, list) -> {
            // a LoRA made for another model is not kept for the next session, where it would be unmarked
            List<Item> kept = list.stream().filter(i -> !i.isForeign()).toList();
            if (!kept.isEmpty()) {
                out.put(model.toString(), kept.stream()
                        .map(i -> i.file().toAbsolutePath() + ":" + LoraSpec.formatScale(i.scaleProperty().get())).toList());
            }
        });
        return out;
    }

    /** Puts the saved lists back; files that are gone are left out, with one message naming them. */
    void restoreAll(Map<String, List<String>> saved) {
        List<String> gone = new java.util.ArrayList<>();
        saved.forEach((model, lines) -> {
            try {
                ObservableList<Item> list = perModel.computeIfAbsent(Path.of(model), m -> FXCollections.observableArrayList());
                list.setAll(items(String.join("\n", lines), gone));
            } catch (java.nio.file.InvalidPathException e) {
                gone.add(model);
            }
        });
        var selected = params.modelProperty().get();
        showListOf(selected == null ? null : selected.folder());
        if (!gone.isEmpty()) {
            messages.accept(UserMessage.warning("LoRA file" + (gone.size() > 1 ? "s" : "") + " from the last session"
                    + " no longer found, left out: " + String.join(", ", gone) + "."));
        }
    }

    /** True for files a drop onto the window should give to this list or the model list, never use as a picture. */
    public static boolean isSafetensors(Path file) {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors");
    }

    public void remove(Item item) {
        ObservableList<Item> list = current();
        if (list != null) {
            list.remove(item);
            items.setAll(list);
            report.set(null);
        }
    }

    /** The LoRAs and scales the next generation uses: all but those {@link Item#isForeign() made for another model}. */
    public List<LoraSpec> specs() {
        return items.stream().filter(i -> !i.isForeign()).map(i -> new LoraSpec(i.file(), i.scaleProperty().get())).toList();
    }

    /** Asks the engine which keys match which layers (and which match nothing); the answer lands in {@link #reportProperty()}. */
    public void showReport() {
        var model = params.modelProperty().get();
        List<LoraSpec> specs = specs();
        String foreign = items.stream().filter(Item::isForeign).map(i -> i.name() + ": " + FOREIGN + ", not used\n")
                .collect(java.util.stream.Collectors.joining());
        if (model == null || specs.isEmpty()) {
            report.set(foreign.isEmpty() ? "No LoRAs for this model." : foreign);
            return;
        }
        EngineOptionsSupplier opts = params::engineOptions;
        runner.run("lora-report", () -> session.use(model.folder(), opts.get(), g -> g.loraReport(specs)).describe() + foreign,
                report::set, e -> messages.accept(ErrorMessages.of(e)));
    }

    private interface EngineOptionsSupplier {
        dev.sd3studio.engine.api.EngineOptions get() throws EngineException;
    }
}
