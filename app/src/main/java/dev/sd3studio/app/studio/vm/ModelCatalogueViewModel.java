package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.hub.DownloadControl;
import dev.sd3studio.app.hub.DownloadProgress;
import dev.sd3studio.app.hub.HubClient;
import dev.sd3studio.app.hub.HubException;
import dev.sd3studio.app.hub.ModelCatalogue;
import dev.sd3studio.app.hub.ModelDownloader;
import dev.sd3studio.app.hub.ModelFiles;
import dev.sd3studio.app.hub.RepoRef;
import dev.sd3studio.app.hub.Sizes;
import dev.sd3studio.app.hub.T5Variant;
import dev.sd3studio.app.studio.task.TaskRunner;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyBooleanWrapper;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The model catalogue: the known-good exports and checkpoint repositories or any repository id
 * typed in, its size from the Hub's file list before anything is fetched, then a download with
 * progress, pause, resume and cancel. A checkpoint repository fetches its single file and the text
 * encoders for the T5 choice. A finished download is handed to {@code onDownloaded} (the model list
 * adds it): the folder of an export, the {@code .safetensors} file of a checkpoint.
 */
public final class ModelCatalogueViewModel {
    public enum State { IDLE, CHECKING, READY, DOWNLOADING, PAUSED, DONE, FAILED }

    private final TaskRunner runner;
    private final ModelDownloader downloader;
    private final Path modelsRoot;
    private final Consumer<Path> onDownloaded;
    private final StringProperty repo = new SimpleStringProperty("");
    private final BooleanProperty noT5 = new SimpleBooleanProperty(false);
    private final ObjectProperty<T5Variant> t5Variant = new SimpleObjectProperty<>(T5Variant.FP8);
    private final ReadOnlyBooleanWrapper checkpoint = new ReadOnlyBooleanWrapper(false);
    private final ObjectProperty<State> state = new SimpleObjectProperty<>(State.IDLE);
    private final StringProperty details = new SimpleStringProperty("");
    private final StringProperty progressText = new SimpleStringProperty("");
    private final DoubleProperty progress = new SimpleDoubleProperty(0);
    private ModelDownloader.Plan plan;
    private DownloadControl control;

    public ModelCatalogueViewModel(TaskRunner runner, HubClient client, Path modelsRoot, Consumer<Path> onDownloaded) {
        this.runner = runner;
        this.downloader = new ModelDownloader(client);
        this.modelsRoot = modelsRoot;
        this.onDownloaded = onDownloaded;
        repo.addListener((o, a, b) -> {
            checkpoint.set(entry(b).filter(ModelCatalogue.Entry::isCheckpoint).isPresent());
            forget();
        });
        noT5.addListener((o, a, b) -> forget());
        t5Variant.addListener((o, a, b) -> forget());
    }

    public List<ModelCatalogue.Entry> entries() { return ModelCatalogue.ENTRIES; }
    /** The repository id, typed or picked from the catalogue, optionally {@code @revision}. */
    public StringProperty repoProperty() { return repo; }
    /** ONNX exports: leave {@code text_encoder_3/} on the Hub. */
    public BooleanProperty noT5Property() { return noT5; }
    /** Checkpoint repositories: which T5 file comes with the checkpoint (fp8 unless chosen). */
    public ObjectProperty<T5Variant> t5VariantProperty() { return t5Variant; }
    /** Whether the repository is one of the catalogue's checkpoint repositories (the T5 choice applies). */
    public ReadOnlyBooleanProperty checkpointProperty() { return checkpoint.getReadOnlyProperty(); }
    public ObjectProperty<State> stateProperty() { return state; }
    /** What the repository is and what a download costs, or why it cannot be used. */
    public StringProperty detailsProperty() { return details; }
    public StringProperty progressTextProperty() { return progressText; }
    public DoubleProperty progressProperty() { return progress; }

    public void pick(ModelCatalogue.Entry e) {
        repo.set(e.repo());
        check();
    }

    private void forget() {
        if (state.get() == State.READY || state.get() == State.FAILED || state.get() == State.DONE) {
            state.set(State.IDLE);
            details.set("");
            plan = null;
        }
    }

    /** Lists the repository and checks its layout and the disk space; fetches nothing large. */
    public void check() {
        RepoRef ref;
        try {
            ref = RepoRef.parse(repo.get());
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
            return;
        }
        state.set(State.CHECKING);
        details.set("Reading the file list of " + ref + "…");
        Optional<ModelCatalogue.Entry> entry = ModelCatalogue.find(ref);
        Optional<ModelCatalogue.Entry> checkpointEntry = entry.filter(ModelCatalogue.Entry::isCheckpoint);
        T5Variant t5 = checkpointEntry.isPresent() ? t5Variant.get() : noT5.get() ? T5Variant.NONE : T5Variant.FP16;
        ModelFiles.Selector selector = checkpointEntry.isPresent()
                ? ModelFiles.checkpoint(checkpointEntry.get().checkpoint().orElseThrow(), t5) : ModelFiles.onnx(noT5.get());
        Path dest = modelsRoot.resolve(ref.folderName());
        runner.run("hub-check", () -> downloader.plan(ref, dest, selector), p -> {
            plan = p;
            state.set(State.READY);
            String about = entry.map(e -> e.title() + " [" + e.kind() + "]: " + e.description() + " Licence: "
                    + e.licence() + "." + (e.gated() ? " " + capitalised(e.access()) + "." : "") + "\n").orElse("");
            details.set(about + p.files().files().size() + " files (" + p.files().layout() + " layout), "
                    + Sizes.human(p.files().totalBytes()) + (t5 == T5Variant.NONE ? " without T5"
                    : checkpointEntry.isPresent() ? " with the " + t5 + " T5" : "")
                    + (p.bytesStaged() > 0 ? ", " + Sizes.human(p.bytesStaged()) + " already downloaded" : "")
                    + ".\nInto " + dest + (p.files().modelFile().isPresent() ? "; the model is " + p.modelPath() : ""));
        }, e -> fail(message(e)));
    }

    private static Optional<ModelCatalogue.Entry> entry(String typed) {
        try {
            return ModelCatalogue.find(RepoRef.parse(typed));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String capitalised(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    public void download() {
        if (plan == null) {
            return;
        }
        ModelDownloader.Plan p = plan;
        control = new DownloadControl();
        DownloadControl c = control;
        state.set(State.DOWNLOADING);
        runner.run("hub-download", () -> p.files().modelPath(downloader.download(p, c, pr -> runner.ui(() -> show(pr)))), model -> {
            state.set(State.DONE);
            progress.set(1);
            progressText.set("Done: " + model + " is in the model list.");
            onDownloaded.accept(model);
        }, e -> {
            if (e instanceof HubException h && h.kind() == HubException.Kind.CANCELLED) {
                state.set(State.IDLE);
                progress.set(0);
                progressText.set("Cancelled; the partial download was deleted.");
            } else {
                fail(message(e));
            }
        });
    }

    private void show(DownloadProgress p) {
        progress.set(p.fraction());
        progressText.set(p.describe());
        if (p.state() == DownloadProgress.State.PAUSED) {
            state.set(State.PAUSED);
        } else if (p.state() != DownloadProgress.State.DONE && state.get() == State.PAUSED && !control.isPaused()) {
            state.set(State.DOWNLOADING);
        }
    }

    public void pause() {
        if (control != null && state.get() == State.DOWNLOADING) {
            control.pause();
            state.set(State.PAUSED);
        }
    }

    public void resume() {
        if (control != null && state.get() == State.PAUSED) {
            control.resume();
            state.set(State.DOWNLOADING);
        }
    }

    public void cancel() {
        if (control != null) {
            control.cancel();
        }
    }

    private void fail(String message) {
        state.set(State.FAILED);
        details.set(message);
    }

    private static String message(Throwable e) {
        return e instanceof HubException ? e.getMessage() : "Unexpected problem: " + e.getMessage();
    }
}
