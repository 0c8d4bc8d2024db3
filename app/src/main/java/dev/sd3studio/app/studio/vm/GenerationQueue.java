package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.GalleryItem;
import dev.sd3studio.app.gallery.GalleryStore;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.studio.task.TaskRunner;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.api.StepEvent;
import javafx.beans.binding.Bindings;
import javafx.beans.binding.BooleanBinding;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Generations queued from the editor and run one after another: each job freezes the editor's state,
 * reports step progress and previews, and saves its pictures to the gallery (never a NaN or black one).
 */
public final class GenerationQueue {
    private final TaskRunner runner;
    private final EngineSession session;
    private final GalleryStore galleryStore;
    private final GalleryViewModel gallery;
    private final PromptViewModel prompt;
    private final ParametersViewModel params;
    private final MaskEditorViewModel mask;
    private final Consumer<UserMessage> messages;
    private final Runnable onQueued;
    private final ObservableList<Job> queue = FXCollections.observableArrayList();
    private final ObjectProperty<Job> running = new SimpleObjectProperty<>();
    private final DoubleProperty progress = new SimpleDoubleProperty(0);
    private final StringProperty progressText = new SimpleStringProperty("Ready");
    private final ObjectProperty<RgbImage> preview = new SimpleObjectProperty<>();
    private RgbImage lastResult;
    private final AtomicInteger jobIds = new AtomicInteger();
    private final BooleanBinding canGenerate;

    /** @param onQueued runs after each job is queued (the settings are saved then) */
    private java.util.function.Supplier<List<dev.sd3studio.engine.api.LoraSpec>> loras = List::of;

    GenerationQueue(TaskRunner runner, EngineSession session, GalleryStore galleryStore, GalleryViewModel gallery,
                    PromptViewModel prompt, ParametersViewModel params, MaskEditorViewModel mask,
                    Consumer<UserMessage> messages, Runnable onQueued) {
        this.runner = runner;
        this.session = session;
        this.galleryStore = galleryStore;
        this.gallery = gallery;
        this.prompt = prompt;
        this.params = params;
        this.mask = mask;
        this.messages = messages;
        this.onQueued = onQueued;
        this.canGenerate = Bindings.createBooleanBinding(
                () -> params.modelProperty().get() != null && params.modelProperty().get().usable()
                        && !prompt.promptProperty().get().isBlank(),
                params.modelProperty(), prompt.promptProperty());
    }

    public ObservableList<Job> jobs() { return queue; }
    public ObjectProperty<Job> runningProperty() { return running; }
    public DoubleProperty progressProperty() { return progress; }
    public StringProperty progressTextProperty() { return progressText; }
    /** The live preview during denoising, then the last finished image (also after a cancelled run). */
    public ObjectProperty<RgbImage> previewProperty() { return preview; }
    public BooleanBinding canGenerateBinding() { return canGenerate; }

    /** Freezes the current editor state into a job and queues it (Ctrl+Enter). */
    public Optional<Job> generate() {
        ModelEntry m = params.modelProperty().get();
        if (m == null || !m.usable()) {
            messages.accept(UserMessage.warning(m == null ? "Choose a model first." : "The chosen model folder is incomplete: "
                    + String.join(", ", m.missing()) + "."));
            return Optional.empty();
        }
        if (prompt.promptProperty().get().isBlank()) {
            messages.accept(UserMessage.warning("Type a prompt first."));
            return Optional.empty();
        }
        String typed = params.typedProblem();
        if (typed != null) {
            messages.accept(UserMessage.warning(typed));
            return Optional.empty();
        }
        String sizeProblem = params.sizeProblem();
        if (sizeProblem != null) {
            messages.accept(UserMessage.warning(sizeProblem.substring(0, 1).toUpperCase() + sizeProblem.substring(1)));
            return Optional.empty();
        }
        try {
            Job job = new Job(jobIds.incrementAndGet(), m.folder(), params.engineOptions(), buildRequest());
            prompt.remember(prompt.promptProperty().get());
            queue.add(job);
            // Saved now too, not only at exit: a crash must not lose the prompt and parameters.
            onQueued.run();
            startNext();
            return Optional.of(job);
        } catch (EngineException e) {
            messages.accept(ErrorMessages.of(e));
            return Optional.empty();
        }
    }

    /** Where generations take their LoRAs from (the selected model's LoRA list). */
    void useLoras(java.util.function.Supplier<List<dev.sd3studio.engine.api.LoraSpec>> source) {
        loras = source;
    }

    GenerationRequest buildRequest() {
        boolean per = prompt.perEncoderProperty().get();
        long seed = params.randomSeedProperty().get() ? ThreadLocalRandom.current().nextLong(1L << 32)
                : params.seedProperty().get();
        double shift = params.shiftProperty().get();
        SkipLayerViewModel slg = params.skipLayers();
        return GenerationRequest.builder()
                .setPrompts(List.of(prompt.promptProperty().get()))
                .optNegatives(List.of(prompt.negativeProperty().get()))
                .optPrompts2(per && !prompt.prompt2Property().get().isBlank() ? List.of(prompt.prompt2Property().get()) : List.of())
                .optPrompts3(per && !prompt.prompt3Property().get().isBlank() ? List.of(prompt.prompt3Property().get()) : List.of())
                .optNegatives2(per && !prompt.negative2Property().get().isBlank() ? List.of(prompt.negative2Property().get()) : List.of())
                .optNegatives3(per && !prompt.negative3Property().get().isBlank() ? List.of(prompt.negative3Property().get()) : List.of())
                .optClipSkip(params.clipSkipProperty().get())
                .optSkipLayers(slg.requestLayers())
                .optSkipLayerScale(slg.scaleProperty().get())
                .optSkipLayerStart(slg.startProperty().get())
                .optSkipLayerStop(slg.stopProperty().get())
                .optSize(params.widthProperty().get(), params.heightProperty().get())
                .optSteps(params.stepsProperty().get())
                .optGuidance(params.guidanceProperty().get())
                .optShift(shift > 0 ? shift : null)
                .optMaxSequenceLength(params.maxSequenceLengthProperty().get())
                .optDropT5(params.dropT5Property().get())
                .optImagesPerPrompt(params.imagesPerPromptProperty().get())
                .optSeed(seed)
                .optNoiseSlice(params.randomSeedProperty().get() || params.imagesPerPromptProperty().get() != 1 ? null
                        : params.noiseSliceProperty().get())
                .optInitImage(params.initImageProperty().get())
                .optMask(params.initImageProperty().get() == null ? null : mask.toImage())
                .optKeepUnmasked(mask.keepUnmaskedProperty().get())
                .optStrength(params.strengthProperty().get())
                .optPreviewEvery(1)
                .optLoras(loras.get())
                .build();
    }

    /** Cancels the running job (Esc); queued jobs stay. */
    public void cancel() {
        Job j = running.get();
        if (j != null) {
            j.cancelToken().cancel();
            progressText.set("Cancelling…");
        }
    }

    /** Removes a job that is not running. */
    public void remove(Job job) {
        if (job != null && job.status() != Job.Status.RUNNING) {
            queue.remove(job);
        }
    }

    /** Cancels the running job and forgets the queued ones (the window closes). */
    void stopAll() {
        Job j = running.get();
        if (j != null) {
            j.cancelToken().cancel();
        }
        queue.clear();
    }

    private void startNext() {
        if (running.get() != null) {
            return;
        }
        Job job = queue.stream().filter(j -> j.status() == Job.Status.QUEUED).findFirst().orElse(null);
        if (job == null) {
            return;
        }
        job.setStatus(Job.Status.RUNNING);
        running.set(job);
        progress.set(0);
        progressText.set("Starting " + job.label() + "…");
        runner.run("generate-" + job.id(), () -> execute(job), saved -> finished(job, saved), e -> failed(job, e));
    }

    private record Saved(List<GalleryItem> items, Long seed, RgbImage last, List<String> warnings) {
    }

    /** On a worker thread: generate (the engine refuses NaN, infinite and blank pictures), save atomically. */
    private Saved execute(Job job) throws EngineException {
        return session.use(job.model(), job.options(), gen -> {
            GenerationResult result = gen.generate(job.request(), new Listener(), job.cancelToken());
            List<GalleryItem> items = new ArrayList<>();
            try {
                for (int i = 0; i < result.count(); i++) {
                    items.add(galleryStore.add(result.image(i), PngMetadata.of(result.resolved(), i,
                            gen.info().name(), job.options().weights())));
                }
            } catch (IOException e) {
                throw new EngineException(EngineException.Kind.IO, "Could not save to the gallery folder "
                        + galleryStore.dir() + ": " + e.getMessage() + ". Check that it is writable.", e);
            }
            return new Saved(items, result.resolved().seed(), result.image(result.count() - 1), result.warnings());
        });
    }

    private void finished(Job job, Saved saved) {
        job.setStatus(Job.Status.DONE);
        queue.remove(job);
        running.set(null);
        gallery.added(saved.items());
        params.lastSeedProperty().set(saved.seed());
        lastResult = saved.last();
        preview.set(lastResult);
        progress.set(1);
        progressText.set(saved.items().size() == 1 ? "Saved 1 image" : "Saved " + saved.items().size() + " images");
        if (!saved.warnings().isEmpty()) {
            messages.accept(UserMessage.warning(String.join("\n", saved.warnings())));
        }
        startNext();
    }

    private void failed(Job job, Throwable e) {
        boolean cancelled = e instanceof EngineException ee && ee.kind() == EngineException.Kind.CANCELLED;
        job.setStatus(cancelled ? Job.Status.CANCELLED : Job.Status.FAILED);
        queue.remove(job);
        running.set(null);
        progress.set(0);
        preview.set(lastResult); // a half-denoised preview must not pass for a result
        progressText.set(cancelled ? "Cancelled" : "Failed");
        messages.accept(cancelled ? UserMessage.info("Generation cancelled; nothing was saved.") : ErrorMessages.of(e));
        startNext();
    }

    /** Engine callbacks arrive on the engine's thread; only copies cross to the UI thread. */
    private final class Listener implements ProgressListener {
        @Override
        public void stage(String name) {
            runner.ui(() -> {
                if (!name.equals("denoise")) {
                    progressText.set(name.substring(0, 1).toUpperCase() + name.substring(1) + "…");
                }
            });
        }

        @Override
        public void step(StepEvent event) {
            Progress p = new Progress(event.step(), event.total(), event.elapsed());
            runner.ui(() -> {
                progress.set(p.fraction());
                progressText.set(p.text());
            });
        }

        @Override
        public void preview(int step, FloatTensor image) {
            RgbImage first = new RgbImage((int) image.dim(2), (int) image.dim(1), image.slice(0, 1).data());
            runner.ui(() -> preview.set(first));
        }

        @Override
        public void warning(String text) {
            runner.ui(() -> messages.accept(UserMessage.warning(text)));
        }
    }
}
