package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.settings.Settings;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.MemoryMode;
import dev.sd3studio.engine.api.NoiseSlice;
import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.api.Sd3Generator;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.LongProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleIntegerProperty;
import javafx.beans.property.SimpleLongProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

import java.util.List;
import java.util.Locale;
import dev.sd3studio.app.gpu.MemoryEstimate;
import dev.sd3studio.app.hub.Sizes;
import dev.sd3studio.engine.api.WeightPrecision;

/** Model, size, sampler settings, seed, device and memory toggles, and the init image. */
public final class ParametersViewModel {
    /** Device ids a saved setting may name; what is offered comes from {@link Devices#detect()}. */
    public static final List<String> DEVICES = List.of("cpu", "cuda:0", "cuda:1", "cuda:2", "cuda:3",
            "cuda:4", "cuda:5", "cuda:6", "cuda:7");
    public static final String OFFLOAD_HELP =
            "Loads each model part only while it runs: much lower peak memory, each image a few seconds slower.";
    public static final String WEIGHTS_HELP =
            "The transformer's and T5's weights as stored, or quantized at load to 8 bits (about half of fp16, hardly"
            + " any difference) or 4 bits (about a third, slightly different pictures). The first start with a"
            + " setting quantizes (once, cached); later starts load the cache.";
    public static final String DROP_T5_HELP =
            "Skips the T5 text encoder (~9 GB at full size): far less memory and faster, long prompts follow less closely.";

    private final ObjectProperty<ModelEntry> model = new SimpleObjectProperty<>();
    private final ObjectProperty<SizePreset> preset = new SimpleObjectProperty<>(SizePreset.ALL.getFirst());
    private final javafx.collections.ObservableList<SizePreset> presets = javafx.collections.FXCollections.observableArrayList(SizePreset.ALL);
    private final IntegerProperty width = new SimpleIntegerProperty(1024);
    private final IntegerProperty height = new SimpleIntegerProperty(1024);
    private final IntegerProperty steps = new SimpleIntegerProperty(28);
    private final DoubleProperty guidance = new SimpleDoubleProperty(7.0);
    private final DoubleProperty shift = new SimpleDoubleProperty(0);
    private final BooleanProperty randomSeed = new SimpleBooleanProperty(true);
    private final LongProperty seed = new SimpleLongProperty(0);
    private final ObjectProperty<Long> lastSeed = new SimpleObjectProperty<>();
    private final IntegerProperty imagesPerPrompt = new SimpleIntegerProperty(1);
    private final StringProperty device = new SimpleStringProperty("cpu");
    private final StringProperty deviceNote = new SimpleStringProperty("");
    private final StringProperty sizeNote = new SimpleStringProperty("");
    private ModelHints hints = ModelHints.NONE;
    private final javafx.collections.ObservableList<String> devices = javafx.collections.FXCollections.observableArrayList("cpu");
    private final java.util.Map<String, String> deviceNames = new java.util.HashMap<>(java.util.Map.of("cpu", "CPU"));
    private final BooleanProperty offload = new SimpleBooleanProperty(false);
    private final BooleanProperty dropT5 = new SimpleBooleanProperty(false);
    private final ObjectProperty<WeightPrecision> weights = new SimpleObjectProperty<>(WeightPrecision.STORED);
    private final IntegerProperty maxSequenceLength = new SimpleIntegerProperty(256);
    private final ObjectProperty<RgbImage> initImage = new SimpleObjectProperty<>();
    private final StringProperty initImageName = new SimpleStringProperty("");
    private final DoubleProperty strength = new SimpleDoubleProperty(0.6);
    private final IntegerProperty sizeMultiple = new SimpleIntegerProperty(16);
    private final ObjectProperty<Integer> clipSkip = new SimpleObjectProperty<>();
    private final ObjectProperty<NoiseSlice> noiseSlice = new SimpleObjectProperty<>();
    private final javafx.collections.ObservableMap<String, String> typedProblems =
            javafx.collections.FXCollections.observableMap(new java.util.LinkedHashMap<>());
    private final SkipLayerViewModel skipLayers = new SkipLayerViewModel(steps, guidance, typedProblems);

    public ParametersViewModel() {
        preset.addListener((o, a, p) -> {
            if (p != null && p != SizePreset.CUSTOM) {
                width.set(p.width());
                height.set(p.height());
            }
        });
        // typing a size that matches a preset selects it; anything else shows "Custom"
        width.addListener((o, a, b) -> preset.set(SizePreset.matching(presets, width.get(), height.get())));
        height.addListener((o, a, b) -> preset.set(SizePreset.matching(presets, width.get(), height.get())));
        width.addListener((o, a, b) -> updateSizeNote());
        height.addListener((o, a, b) -> updateSizeNote());
        // a batch position belongs to one seed and a single picture; anything else makes it meaningless
        seed.addListener((o, a, b) -> noiseSlice.set(null));
        randomSeed.addListener((o, a, random) -> {
            if (random) {
                noiseSlice.set(null);
            }
        });
        imagesPerPrompt.addListener((o, a, n) -> {
            if (n.intValue() != 1) {
                noiseSlice.set(null);
            }
        });
    }

    /** The chosen model; {@link ModelListViewModel} sets it (and opens the model). */
    public ObjectProperty<ModelEntry> modelProperty() { return model; }
    public ObjectProperty<SizePreset> presetProperty() { return preset; }
    /** The size presets offered: the sizes the model declares, else SD3's; always ending with Custom. */
    public javafx.collections.ObservableList<SizePreset> presets() { return presets; }

    /** Offers the sizes a model declares (only those), or SD3's presets when it declares none. */
    /** Shows the model's own shift where "0 = the model's" stood (the request result is the same). */
    void showDefaultShift(ModelHints hints) {
        if (shift.get() == 0 && hints.defaultShift() > 0) {
            shift.set(hints.defaultShift());
        }
    }

    void offerSizes(ModelHints hints) {
        this.hints = hints;
        presets.setAll(hints.sizes().isEmpty() ? SizePreset.ALL : SizePreset.of(hints.sizes()));
        preset.set(SizePreset.matching(presets, width.get(), height.get()));
        updateSizeNote();
    }

    private void updateSizeNote() {
        sizeNote.set(hints.sizeNotice(width.get(), height.get()).orElse(""));
    }

    /** What to expect at this size: set when the model declares its sizes and this is not one of them. */
    public StringProperty sizeNoteProperty() { return sizeNote; }
    public IntegerProperty widthProperty() { return width; }
    public IntegerProperty heightProperty() { return height; }
    public IntegerProperty stepsProperty() { return steps; }
    public DoubleProperty guidanceProperty() { return guidance; }
    /** 0 means "the scheduler config's shift". */
    public DoubleProperty shiftProperty() { return shift; }
    public BooleanProperty randomSeedProperty() { return randomSeed; }
    public LongProperty seedProperty() { return seed; }
    /** The seed of the last finished generation, for "reuse" and "copy". */
    public ObjectProperty<Long> lastSeedProperty() { return lastSeed; }
    public IntegerProperty imagesPerPromptProperty() { return imagesPerPrompt; }
    public StringProperty deviceProperty() { return device; }
    /** The devices that exist here (the CPU, and GPUs the driver lists). */
    public javafx.collections.ObservableList<String> devices() { return devices; }

    /** "CPU", or "GPU 0 · NVIDIA H200". */
    public String deviceName(String id) {
        return id == null ? "" : deviceNames.getOrDefault(id, id);
    }

    /** Offers what exists; a saved GPU that is not there falls back to the CPU, and says so. */
    void offerDevices(java.util.Map<String, String> found) {
        deviceNames.clear();
        deviceNames.putAll(found);
        devices.setAll(found.keySet());
        if (!found.containsKey(device.get())) {
            String was = device.get();
            device.set("cpu");
            deviceNote.set("No " + was + " on this computer (the driver lists none); running on the CPU.");
        }
    }
    /** Why the GPU is not used, when it is not. */
    public StringProperty deviceNoteProperty() { return deviceNote; }
    public BooleanProperty offloadProperty() { return offload; }
    public BooleanProperty dropT5Property() { return dropT5; }
    public ObjectProperty<WeightPrecision> weightsProperty() { return weights; }

    /**
     * What the chosen weights save for the selected model, from its file sizes (an estimate: see
     * {@link MemoryEstimate#withWeights}), e.g. "saves about 4.1 GB of 9.8 GB"; empty for stored weights.
     */
    public String weightsSaving() {
        ModelEntry m = model.get();
        WeightPrecision w = weights.get();
        if (m == null || w == null || w == WeightPrecision.STORED) {
            return "";
        }
        MemoryEstimate stored = MemoryEstimate.of(m.folder(), width.get(), height.get(), 1);
        MemoryEstimate quantized = stored.withWeights(w);
        long before = stored.t5() + stored.transformer();
        long after = quantized.t5() + quantized.transformer();
        return before <= 0 ? "" : "saves about " + Sizes.human(before - after) + " of " + Sizes.human(before)
                + " (transformer and T5)";
    }
    public IntegerProperty maxSequenceLengthProperty() { return maxSequenceLength; }
    public ObjectProperty<RgbImage> initImageProperty() { return initImage; }
    public StringProperty initImageNameProperty() { return initImageName; }
    public DoubleProperty strengthProperty() { return strength; }
    public IntegerProperty sizeMultipleProperty() { return sizeMultiple; }
    /** CLIP layers to skip; null for none (restored from a picture's parameters). */
    public ObjectProperty<Integer> clipSkipProperty() { return clipSkip; }
    /**
     * Set when a batch picture's parameters were loaded: the next single picture takes its noise from
     * that batch's draw, so it is that picture again. Cleared by changing the seed or the image count.
     */
    public ObjectProperty<NoiseSlice> noiseSliceProperty() { return noiseSlice; }
    /** Skip-layer guidance: the switch, its layers and values. */
    public SkipLayerViewModel skipLayers() { return skipLayers; }

    /** Fix the seed to the last one used, so the next run repeats it. */
    public void reuseLastSeed() {
        if (lastSeed.get() != null) {
            seed.set(lastSeed.get());
            randomSeed.set(false);
        }
    }

    public void clearInitImage() {
        initImage.set(null);
        initImageName.set("");
    }

    /**
     * Defaults follow the model: its native size, the guidance its {@code sd3studio.json} recommends, and for
     * turbo models 4 steps without guidance.
     */
    public void applyModelDefaults(Sd3Generator.ModelInfo info, ModelHints hints) {
        width.set(info.defaultWidth());
        height.set(info.defaultHeight());
        sizeMultiple.set(info.sizeMultiple());
        boolean turbo = info.name().toLowerCase(Locale.ROOT).contains("turbo");
        steps.set(turbo ? 4 : 28);
        guidance.set(hints.guidance().orElse(turbo ? 0 : 7.0));
        shift.set(0);
        skipLayers.offer(info, true);
    }

    /**
     * Fields whose text is not a valid number (a key per field, and what is wrong): their values keep
     * the last valid number, which is not what the screen shows, so Generate refuses while any is listed.
     */
    public javafx.collections.ObservableMap<String, String> typedProblems() { return typedProblems; }

    /** The first field that shows text which is not a valid number, as a sentence that says the fix; or null. */
    public String typedProblem() {
        return typedProblems.isEmpty() ? null : "Not generated: " + typedProblems.values().iterator().next()
                + ". Correct the field, or press Esc in it to go back to its last value.";
    }

    /** A size error the user can fix, or null when the size is fine. */
    public String sizeProblem() {
        int m = Math.max(1, sizeMultiple.get());
        for (int v : new int[] {width.get(), height.get()}) {
            if (v <= 0 || v % m != 0) {
                int lo = Math.max(m, v / m * m);
                return "size " + v + " is not a multiple of " + m + "; " + lo + " or " + (lo + m) + " would work.";
            }
        }
        return null;
    }

    public EngineOptions engineOptions() throws EngineException {
        return EngineOptions.defaults().withDevice(Device.parse(device.get()))
                .withMemoryMode(offload.get() ? MemoryMode.OFFLOAD : MemoryMode.RESIDENT)
                .withWeights(weights.get())
                .withCheckpoint(GeneratorFactory.checkpointFiles());
    }

    void restore(Settings.Parameters p) {
        width.set(p.width());
        height.set(p.height());
        steps.set(p.steps());
        guidance.set(p.guidance());
        shift.set(p.shift());
        randomSeed.set(p.randomSeed());
        seed.set(p.seed());
        imagesPerPrompt.set(Math.max(1, p.imagesPerPrompt()));
        device.set(DEVICES.contains(p.device()) ? p.device() : "cpu");
        offload.set(p.offload());
        dropT5.set(p.dropT5());
        try {
            weights.set(WeightPrecision.parse(p.weights()));
        } catch (IllegalArgumentException e) {
            weights.set(WeightPrecision.STORED); // a hand-edited value we do not know
        }
        maxSequenceLength.set(p.maxSequenceLength() > 0 ? p.maxSequenceLength() : 256);
        strength.set(p.strength() > 0 ? p.strength() : 0.6);
        clipSkip.set(p.clipSkip() != null && p.clipSkip() > 0 ? p.clipSkip() : null);
        skipLayers.restore(p.skipLayers());
    }
}
