package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gallery.GalleryItem;
import dev.sd3studio.app.gallery.GalleryStore;
import dev.sd3studio.app.gallery.PngFiles;
import dev.sd3studio.app.gallery.PngMetadata;
import dev.sd3studio.app.settings.Settings;
import dev.sd3studio.app.settings.SettingsStore;
import dev.sd3studio.app.studio.task.TaskRunner;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.api.StepEvent;
import dev.sd3studio.engine.image.ImageLoader;
import dev.sd3studio.engine.model.ModelCheck;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The studio's root view-model: owns the prompt, parameter and gallery view-models, the queue of
 * generations, progress and preview, user messages, and settings persistence. Engine work runs
 * through the {@link TaskRunner}; engine callbacks are marshalled back with {@code runner.ui}.
 */
public final class StudioViewModel implements AutoCloseable {
    private final TaskRunner runner;
    private final SettingsStore settingsStore;
    private final GeneratorFactory factory;
    private final Optional<Path> builtIn;
    private final EngineSession session;
    private final GalleryStore galleryStore;
    private final PromptViewModel prompt = new PromptViewModel();
    private final ParametersViewModel params = new ParametersViewModel();
    private final GalleryViewModel gallery;
    private final ObservableList<Job> queue = FXCollections.observableArrayList();
    private final ObjectProperty<Job> running = new SimpleObjectProperty<>();
    private final DoubleProperty progress = new SimpleDoubleProperty(0);
    private final StringProperty progressText = new SimpleStringProperty("Ready");
    private final ObjectProperty<RgbImage> preview = new SimpleObjectProperty<>();
    private final ObjectProperty<UserMessage> message = new SimpleObjectProperty<>();
    private final ObjectProperty<ImportOffer> importOffer = new SimpleObjectProperty<>();
    private final StringProperty theme = new SimpleStringProperty("system");
    private final ObjectProperty<Settings.Window> window = new SimpleObjectProperty<>(Settings.Window.defaults());
    private final AtomicInteger jobIds = new AtomicInteger();
    private final AtomicInteger tokenRequest = new AtomicInteger();
    private final List<String> modelFolders = new ArrayList<>();
    private final BooleanBinding canGenerate;
    private boolean restoring;

    public StudioViewModel(TaskRunner runner, SettingsStore settingsStore, GalleryStore galleryStore,
                           GeneratorFactory factory, Optional<Path> builtIn) {
        this.runner = runner;
        this.settingsStore = settingsStore;
        this.galleryStore = galleryStore;
        this.factory = factory;
        this.builtIn = builtIn;
        this.session = new EngineSession(factory);
        this.gallery = new GalleryViewModel(runner, galleryStore, message::set);
        this.canGenerate = Bindings.createBooleanBinding(
                () -> params.modelProperty().get() != null && params.modelProperty().get().usable()
                        && !prompt.promptProperty().get().isBlank(),
                params.modelProperty(), prompt.promptProperty());
        params.modelProperty().addListener((o, a, m) -> modelChosen(m, !restoring));
        prompt.promptProperty().addListener((o, a, b) -> requestTokens());
        prompt.prompt2Property().addListener((o, a, b) -> requestTokens());
        prompt.prompt3Property().addListener((o, a, b) -> requestTokens());
        prompt.perEncoderProperty().addListener((o, a, b) -> requestTokens());
        params.maxSequenceLengthProperty().addListener((o, a, b) -> requestTokens());
        params.dropT5Property().addListener((o, a, b) -> requestTokens());
    }

    public PromptViewModel prompt() { return prompt; }
    public ParametersViewModel parameters() { return params; }
    public GalleryViewModel gallery() { return gallery; }
    public ObservableList<Job> queue() { return queue; }
    public ObjectProperty<Job> runningProperty() { return running; }
    public DoubleProperty progressProperty() { return progress; }
    public StringProperty progressTextProperty() { return progressText; }
    /** The live preview during denoising, then the last finished image. */
    public ObjectProperty<RgbImage> previewProperty() { return preview; }
    public ObjectProperty<UserMessage> messageProperty() { return message; }
    public ObjectProperty<ImportOffer> importOfferProperty() { return importOffer; }
    public StringProperty themeProperty() { return theme; }
    public ObjectProperty<Settings.Window> windowProperty() { return window; }
    public BooleanBinding canGenerateBinding() { return canGenerate; }

    /** Restores settings, lists the models and loads the gallery. */
    public void start() {
        // on the very first start the model's defaults (size, steps) beat the generic ones
        boolean firstRun = !Files.exists(settingsStore.file());
        Settings s = settingsStore.load();
        restoring = true;
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
        restoring = false;
        modelFolders.clear();
        modelFolders.addAll(s.modelFolders());
        refreshModels(s.selectedModel(), firstRun);
        gallery.reload();
    }

    // ---- models ----

    public void addModelFolder(Path folder) {
        String f = folder.toAbsolutePath().normalize().toString();
        if (!modelFolders.contains(f)) {
            modelFolders.add(f);
        }
        refreshModels(f, true);
    }

    public void removeModel(ModelEntry entry) {
        if (entry != null && !entry.builtIn()) {
            modelFolders.remove(entry.folder().toString());
            refreshModels(null, true);
        }
    }

    /** @param chosen the user picked {@code select}: its defaults replace the current parameters */
    private void refreshModels(String select, boolean chosen) {
        List<Path> folders = new ArrayList<>();
        builtIn.ifPresent(folders::add);
        modelFolders.forEach(f -> folders.add(Path.of(f)));
        runner.run("check-models", () -> folders.stream().map(this::entry).toList(), entries -> {
            restoring = !chosen; // a restored selection keeps the user's last parameters
            params.models().setAll(entries);
            ModelEntry pick = entries.stream().filter(e -> e.folder().toString().equals(select)).findFirst()
                    .or(() -> entries.stream().filter(ModelEntry::usable).findFirst()).orElse(null);
            params.modelProperty().set(pick);
            restoring = false;
            if (pick == null) {
                modelChosen(null, false);
            }
        }, e -> message.set(ErrorMessages.of(e)));
    }

    private ModelEntry entry(Path folder) {
        boolean isBuiltIn = builtIn.isPresent() && builtIn.get().equals(folder);
        String name = folder.getFileName() == null ? folder.toString() : folder.getFileName().toString();
        try {
            ModelCheck.Report r = factory.check(folder);
            return new ModelEntry(folder, name, isBuiltIn, r.missingRequired());
        } catch (EngineException e) {
            return new ModelEntry(folder, name, isBuiltIn, List.of(e.getMessage()));
        }
    }

    /** Opens the model to learn its defaults and make token counts live. */
    private void modelChosen(ModelEntry m, boolean applyDefaults) {
        if (m == null) {
            params.modelNoteProperty().set(params.models().isEmpty()
                    ? "No model yet. Add a model folder (an SD3 ONNX export) with “Add folder…”; the built-in demo"
                    + " model appears here once it is installed at " + dev.sd3studio.app.BuiltInModel.RELATIVE + "."
                    : "Choose a model.");
            prompt.tokens().clear();
            return;
        }
        if (!m.usable()) {
            params.modelNoteProperty().set("Not a complete model — missing " + String.join(", ", m.missing())
                    + ". Add the missing parts or choose another folder.");
            prompt.tokens().clear();
            return;
        }
        params.modelNoteProperty().set("Loading " + m.name() + "…");
        runner.run("open-model", () -> {
            var opts = params.engineOptions();
            return session.use(m.folder(), opts, g -> new Opened(g.info(), g.deviceFallbackReason().orElse("")));
        }, opened -> {
            if (applyDefaults) {
                params.applyModelDefaults(opened.info());
            } else {
                params.sizeMultipleProperty().set(opened.info().sizeMultiple());
            }
            params.modelNoteProperty().set(opened.info().name() + " · " + opened.info().defaultWidth() + "×"
                    + opened.info().defaultHeight() + (opened.info().hasT5() ? "" : " · no T5")
                    + (opened.info().warnings().isEmpty() ? "" : "\n" + String.join("\n", opened.info().warnings())));
            params.deviceNoteProperty().set(opened.fallback());
            requestTokens();
        }, e -> {
            params.modelNoteProperty().set("Could not open " + m.name() + ".");
            message.set(ErrorMessages.of(e));
        });
    }

    private record Opened(Sd3Generator.ModelInfo info, String fallback) {
    }

    // ---- tokens ----

    /** Recounts tokens off the UI thread; a newer request makes older answers stale. */
    public void requestTokens() {
        ModelEntry m = params.modelProperty().get();
        Sd3Generator gen = m == null ? null : session.peek(m.folder());
        if (gen == null || restoring) {
            return;
        }
        int id = tokenRequest.incrementAndGet();
        String main = prompt.promptProperty().get();
        boolean per = prompt.perEncoderProperty().get();
        Map<String, String> texts = Map.of("tokenizer", main,
                "tokenizer_2", per && !prompt.prompt2Property().get().isBlank() ? prompt.prompt2Property().get() : main,
                "tokenizer_3", per && !prompt.prompt3Property().get().isBlank() ? prompt.prompt3Property().get() : main);
        int maxSeq = params.maxSequenceLengthProperty().get();
        boolean drop = params.dropT5Property().get();
        runner.run("tokenize", () -> Tokens.count(gen, texts, maxSeq, drop), counts -> {
            if (id == tokenRequest.get()) {
                prompt.tokens().setAll(counts);
            }
        }, e -> { /* a model closed mid-count: the next edit recounts */ });
    }

    // ---- queue ----

    /** Freezes the current editor state into a job and queues it (Ctrl+Enter). */
    public Optional<Job> generate() {
        ModelEntry m = params.modelProperty().get();
        if (m == null || !m.usable()) {
            message.set(UserMessage.warning(m == null ? "Choose a model first." : "The chosen model folder is incomplete: "
                    + String.join(", ", m.missing()) + "."));
            return Optional.empty();
        }
        if (prompt.promptProperty().get().isBlank()) {
            message.set(UserMessage.warning("Type a prompt first."));
            return Optional.empty();
        }
        String sizeProblem = params.sizeProblem();
        if (sizeProblem != null) {
            message.set(UserMessage.warning(sizeProblem.substring(0, 1).toUpperCase() + sizeProblem.substring(1)));
            return Optional.empty();
        }
        try {
            Job job = new Job(jobIds.incrementAndGet(), m.folder(), params.engineOptions(), buildRequest());
            prompt.remember(prompt.promptProperty().get());
            queue.add(job);
            // Saved now too, not only at exit: a crash must not lose the prompt and parameters.
            saveSettings();
            startNext();
            return Optional.of(job);
        } catch (EngineException e) {
            message.set(ErrorMessages.of(e));
            return Optional.empty();
        }
    }

    GenerationRequest buildRequest() {
        boolean per = prompt.perEncoderProperty().get();
        long seed = params.randomSeedProperty().get() ? ThreadLocalRandom.current().nextLong(1L << 32)
                : params.seedProperty().get();
        double shift = params.shiftProperty().get();
        return GenerationRequest.builder()
                .setPrompts(List.of(prompt.promptProperty().get()))
                .optNegatives(List.of(prompt.negativeProperty().get()))
                .optPrompts2(per && !prompt.prompt2Property().get().isBlank() ? List.of(prompt.prompt2Property().get()) : List.of())
                .optPrompts3(per && !prompt.prompt3Property().get().isBlank() ? List.of(prompt.prompt3Property().get()) : List.of())
                .optSize(params.widthProperty().get(), params.heightProperty().get())
                .optSteps(params.stepsProperty().get())
                .optGuidance(params.guidanceProperty().get())
                .optShift(shift > 0 ? shift : null)
                .optMaxSequenceLength(params.maxSequenceLengthProperty().get())
                .optDropT5(params.dropT5Property().get())
                .optImagesPerPrompt(params.imagesPerPromptProperty().get())
                .optSeed(seed)
                .optInitImage(params.initImageProperty().get())
                .optStrength(params.strengthProperty().get())
                .optPreviewEvery(1)
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

    public void removeQueued(Job job) {
        if (job != null && job.status() == Job.Status.QUEUED) {
            queue.remove(job);
        } else if (job != null && job.status() != Job.Status.RUNNING) {
            queue.remove(job);
        }
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

    /** On a worker thread: generate, refuse non-finite or black output, save atomically. */
    private Saved execute(Job job) throws EngineException, IOException {
        return session.use(job.model(), job.options(), gen -> {
            GenerationResult result = gen.generate(job.request(), new Listener(), job.cancelToken());
            FloatTensor images = result.images();
            if (images.firstNonFinite() >= 0 || allZero(images.data())) {
                throw new EngineException(EngineException.Kind.NUMERIC_OVERFLOW,
                        "The model produced an invalid (NaN or black) image.");
            }
            List<GalleryItem> items = new ArrayList<>();
            try {
                for (int i = 0; i < result.count(); i++) {
                    items.add(galleryStore.add(result.image(i), PngMetadata.of(result.resolved(), i, gen.info().name())));
                }
            } catch (IOException e) {
                throw new EngineException(EngineException.Kind.IO, "Could not save to the gallery folder "
                        + galleryStore.dir() + ": " + e.getMessage() + ". Check that it is writable.", e);
            }
            return new Saved(items, result.resolved().seed(), result.image(result.count() - 1), result.warnings());
        });
    }

    private static boolean allZero(float[] data) {
        for (float v : data) {
            if (v != 0f) {
                return false;
            }
        }
        return true;
    }

    private void finished(Job job, Saved saved) {
        job.setStatus(Job.Status.DONE);
        queue.remove(job);
        running.set(null);
        gallery.added(saved.items());
        params.lastSeedProperty().set(saved.seed());
        preview.set(saved.last());
        progress.set(1);
        progressText.set(saved.items().size() == 1 ? "Saved 1 image" : "Saved " + saved.items().size() + " images");
        if (!saved.warnings().isEmpty()) {
            message.set(UserMessage.warning(String.join("\n", saved.warnings())));
        }
        startNext();
    }

    private void failed(Job job, Throwable e) {
        boolean cancelled = e instanceof EngineException ee && ee.kind() == EngineException.Kind.CANCELLED;
        job.setStatus(cancelled ? Job.Status.CANCELLED : Job.Status.FAILED);
        queue.remove(job);
        running.set(null);
        progress.set(0);
        progressText.set(cancelled ? "Cancelled" : "Failed");
        message.set(cancelled ? UserMessage.info("Generation cancelled; nothing was saved.") : ErrorMessages.of(e));
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
            runner.ui(() -> message.set(UserMessage.warning(text)));
        }
    }

    // ---- image-to-image and parameters from files ----

    /** A dropped or pasted file: our own PNGs offer their parameters, other images become the init image. */
    public void dropFiles(List<Path> files) {
        Optional<Path> file = files.stream().filter(Files::isRegularFile).findFirst();
        if (file.isEmpty()) {
            message.set(UserMessage.warning("Drop an image file (PNG, JPEG, …) to use it as the start image."));
            return;
        }
        Path f = file.get();
        runner.run("load-image", () -> {
            RgbImage img = ImageLoader.load(f);
            Map<String, String> meta = f.getFileName().toString().toLowerCase().endsWith(".png")
                    && PngFiles.readText(f).containsKey(PngMetadata.OURS) ? GalleryStore.parameters(f) : Map.of();
            return new ImportOffer(f, meta, img);
        }, offer -> {
            if (offer.parameters().isEmpty()) {
                setInitImage(offer.image(), offer.file().getFileName().toString());
            } else {
                importOffer.set(offer);
            }
        }, e -> message.set(ErrorMessages.of(e)));
    }

    public void acceptOffer(boolean loadParameters) {
        ImportOffer offer = importOffer.get();
        importOffer.set(null);
        if (offer == null) {
            return;
        }
        if (loadParameters) {
            loadParameters(offer.parameters());
        } else {
            setInitImage(offer.image(), offer.file().getFileName().toString());
        }
    }

    public void setInitImage(RgbImage image, String name) {
        params.initImageProperty().set(image);
        params.initImageNameProperty().set(name);
    }

    public void useAsInit(GalleryItem item) {
        runner.run("load-image", () -> ImageLoader.load(item.file()),
                img -> setInitImage(img, item.file().getFileName().toString()), e -> message.set(ErrorMessages.of(e)));
    }

    /** Puts a picture's parameters back into the editor (and fixes its seed, to reproduce it). */
    public void loadParameters(Map<String, String> m) {
        prompt.promptProperty().set(m.getOrDefault("prompt", ""));
        prompt.negativeProperty().set(m.getOrDefault("negative_prompt", ""));
        prompt.prompt2Property().set(m.getOrDefault("prompt_2", ""));
        prompt.prompt3Property().set(m.getOrDefault("prompt_3", ""));
        prompt.perEncoderProperty().set(m.containsKey("prompt_2") || m.containsKey("prompt_3"));
        intOf(m, "width").ifPresent(params.widthProperty()::set);
        intOf(m, "height").ifPresent(params.heightProperty()::set);
        intOf(m, "steps").ifPresent(params.stepsProperty()::set);
        intOf(m, "max_sequence_length").ifPresent(params.maxSequenceLengthProperty()::set);
        doubleOf(m, "guidance").ifPresent(params.guidanceProperty()::set);
        params.shiftProperty().set(doubleOf(m, "shift").orElse(0.0));
        doubleOf(m, "strength").ifPresent(params.strengthProperty()::set);
        params.dropT5Property().set(Boolean.parseBoolean(m.getOrDefault("drop_t5", "false")));
        if (m.containsKey("seed")) {
            try {
                params.seedProperty().set(Long.parseLong(m.get("seed")));
                params.randomSeedProperty().set(false);
            } catch (NumberFormatException ignored) {
                // keep the current seed
            }
        }
        message.set(UserMessage.info("Parameters loaded."));
    }

    private static Optional<Integer> intOf(Map<String, String> m, String k) {
        try {
            return Optional.ofNullable(m.get(k)).map(Integer::parseInt);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<Double> doubleOf(Map<String, String> m, String k) {
        try {
            return Optional.ofNullable(m.get(k)).map(Double::parseDouble);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    // ---- settings ----

    public Settings snapshot() {
        ModelEntry m = params.modelProperty().get();
        var p = new Settings.Parameters(prompt.promptProperty().get(), prompt.negativeProperty().get(),
                prompt.prompt2Property().get(), prompt.prompt3Property().get(), params.widthProperty().get(),
                params.heightProperty().get(), params.stepsProperty().get(), params.guidanceProperty().get(),
                params.shiftProperty().get(), params.randomSeedProperty().get(), params.seedProperty().get(),
                params.imagesPerPromptProperty().get(), params.deviceProperty().get(), params.offloadProperty().get(),
                params.dropT5Property().get(), params.maxSequenceLengthProperty().get(), params.strengthProperty().get());
        return new Settings(window.get(), theme.get(), List.copyOf(modelFolders),
                m == null ? null : m.folder().toString(), galleryStore.dir().toString(), p, List.copyOf(prompt.history()));
    }

    public void saveSettings() {
        try {
            settingsStore.save(snapshot());
        } catch (IOException e) {
            message.set(ErrorMessages.of(e));
        }
    }

    /** Saves settings, cancels the running job and closes the engine. */
    @Override
    public void close() {
        saveSettings();
        Job j = running.get();
        if (j != null) {
            j.cancelToken().cancel();
        }
        queue.clear();
        // closing waits for a cancelled generation to stop (it holds the session lock)
        runner.run("close-engine", () -> {
            session.close();
            return true;
        }, ok -> { }, e -> { });
    }

    /** For the menu: the parameters of a gallery item as the widely used text. */
    public static String parametersText(GalleryItem item) {
        return PngMetadata.parametersText(new LinkedHashMap<>(item.parameters()));
    }
}
