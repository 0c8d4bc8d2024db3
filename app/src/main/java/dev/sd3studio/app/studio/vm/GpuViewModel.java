package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gpu.GpuPack;
import dev.sd3studio.app.gpu.GpuPackInstaller;
import dev.sd3studio.app.gpu.GpuPackRecipe;
import dev.sd3studio.app.gpu.GpuStatus;
import dev.sd3studio.app.gpu.Platform;
import dev.sd3studio.app.hub.DownloadProgress;
import dev.sd3studio.app.hub.HubClient;
import dev.sd3studio.app.hub.Sizes;
import dev.sd3studio.app.studio.task.TaskRunner;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

import java.util.function.Supplier;

/**
 * The device panel's GPU dialog: the status in a few lines, and the GPU pack install, which shows
 * the download size from the publishers' manifests and waits for the user's yes.
 */
public final class GpuViewModel {
    public enum State { IDLE, PLANNING, CONFIRM, INSTALLING, DONE, FAILED }

    private final TaskRunner runner;
    private final Supplier<GpuStatus> probe;
    private final GpuPackInstaller installer;
    private final GpuPackRecipe recipe;
    private final StringProperty status = new SimpleStringProperty("");
    private final StringProperty offer = new SimpleStringProperty("");
    private final ObjectProperty<State> state = new SimpleObjectProperty<>(State.IDLE);
    private final DoubleProperty progress = new SimpleDoubleProperty(0);
    private final StringProperty progressText = new SimpleStringProperty("");
    private final StringProperty installBlocked = new SimpleStringProperty("");
    private GpuPackInstaller.Plan plan;

    public GpuViewModel(TaskRunner runner, Supplier<GpuStatus> probe, GpuPackInstaller installer, GpuPackRecipe recipe) {
        this.runner = runner;
        this.probe = probe;
        this.installer = installer;
        this.recipe = recipe;
    }

    /** The status lines, as {@code sd3studio gpu status} prints them. */
    public StringProperty statusProperty() { return status; }
    /** The install offer: what the pack holds and its download size. */
    public StringProperty offerProperty() { return offer; }
    public ObjectProperty<State> stateProperty() { return state; }
    public DoubleProperty progressProperty() { return progress; }
    public StringProperty progressTextProperty() { return progressText; }
    /** Why the GPU pack cannot help on this machine (no NVIDIA driver); empty when it can be installed. */
    public StringProperty installBlockedProperty() { return installBlocked; }

    public void refresh() {
        status.set("Checking…");
        runner.run("gpu-status", probe::get, s -> {
            status.set(String.join("\n", s.lines()));
            installBlocked.set(s.driver().isPresent() ? "" : "No NVIDIA driver was found, so the GPU pack could not be"
                    + " used here. With an NVIDIA card, install its driver first, then press Check again.");
        }, e -> status.set("The GPU check failed: " + inWords(e)));
    }

    /** Reads the manifests and shows the size; nothing is downloaded until {@link #install()}. */
    public void prepareInstall() {
        state.set(State.PLANNING);
        offer.set("Reading the publishers' manifests…");
        runner.run("gpu-plan", () -> installer.plan(recipe, Platform.current()), p -> {
            plan = p;
            state.set(State.CONFIRM);
            StringBuilder s = new StringBuilder("The GPU pack: ONNX Runtime " + p.recipe().ortVersion() + " GPU natives (Maven"
                    + " Central), CUDA " + p.cudaRelease() + " runtime and cuDNN " + p.cudnnRelease() + " (NVIDIA).\n");
            for (GpuPackInstaller.Item i : p.items()) {
                s.append("  ").append(i.component()).append(' ').append(i.version()).append(": ").append(Sizes.human(i.size()))
                        .append('\n');
            }
            s.append("Download ").append(Sizes.human(p.bytes())).append(". NVIDIA's files come under the CUDA EULA and the"
                    + " cuDNN licence (texts kept with the pack). Install now?");
            offer.set(s.toString());
        }, e -> {
            state.set(State.FAILED);
            offer.set(inWords(e));
        });
    }

    public void install() {
        if (plan == null || state.get() != State.CONFIRM) {
            return;
        }
        GpuPackInstaller.Plan p = plan;
        state.set(State.INSTALLING);
        runner.run("gpu-install", () -> installer.install(p, pr -> runner.ui(() -> show(pr))), (GpuPack pack) -> {
            state.set(State.DONE);
            progress.set(1);
            progressText.set("Installed in " + pack.dir() + ". Restart SD3 Studio to use it.");
            refresh();
        }, e -> {
            state.set(State.FAILED);
            progressText.set(inWords(e));
        });
    }

    /**
     * A failure's message, or, where it has none (a bare {@code ConnectException}, say), its kind in
     * words, so the dialog never shows "null" or an empty line.
     */
    static String inWords(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() || m.equals("null") ? HubClient.kindInWords(e) : m;
    }

    private void show(DownloadProgress p) {
        progress.set(p.fraction());
        progressText.set(p.state() == DownloadProgress.State.VERIFYING ? "Verifying and extracting " + p.file()
                : Sizes.human(p.done()) + " / " + Sizes.human(p.total()) + "  " + p.file());
    }
}
