package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.settings.Settings;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.api.SkipLayerGuidance;
import javafx.beans.binding.Bindings;
import javafx.beans.binding.StringBinding;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.ReadOnlyIntegerProperty;
import javafx.beans.property.ReadOnlyIntegerWrapper;
import javafx.beans.property.ReadOnlyObjectProperty;
import javafx.beans.property.ReadOnlyObjectWrapper;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.ObservableMap;

import java.util.List;

/**
 * The skip-layer guidance switch, its layers and advanced values, what it costs, and what the open
 * model allows. The layers are checked as they are typed against the model's blocks: text that is not
 * a usable list is listed in the parameters' typed problems, so Generate refuses it with the range.
 */
public final class SkipLayerViewModel {
    /** The key under which a layers problem is listed in {@link ParametersViewModel#typedProblems()}. */
    static final String PROBLEM_KEY = "skip layers";
    public static final String HELP = "Skip-layer guidance: on the first steps the transformer runs once more with"
            + " a few middle blocks bypassed, and the picture is pushed away from that weaker prediction, which"
            + " improves structure and anatomy (Stability AI recommends it for SD3.5 Medium). Works only with"
            + " guidance above 1. Each extra pass costs about half a step.";

    private final IntegerProperty steps;
    private final DoubleProperty guidance;
    private final ObservableMap<String, String> problems;
    private final BooleanProperty on = new SimpleBooleanProperty(false);
    private final StringProperty layers = new SimpleStringProperty("");
    private final DoubleProperty scale = new SimpleDoubleProperty(SkipLayerGuidance.DEFAULT_SCALE);
    private final DoubleProperty start = new SimpleDoubleProperty(SkipLayerGuidance.DEFAULT_START);
    private final DoubleProperty stop = new SimpleDoubleProperty(SkipLayerGuidance.DEFAULT_STOP);
    /** -1 until a model is open; 0 when the open model does not tell. */
    private final ReadOnlyIntegerWrapper blocks = new ReadOnlyIntegerWrapper(-1);
    private final ReadOnlyObjectWrapper<List<Integer>> recommended = new ReadOnlyObjectWrapper<>(List.of());
    private final ReadOnlyStringWrapper problem = new ReadOnlyStringWrapper();
    private final StringBinding cost;
    private final StringBinding note;
    private String lastUsable = "";

    SkipLayerViewModel(IntegerProperty steps, DoubleProperty guidance, ObservableMap<String, String> problems) {
        this.steps = steps;
        this.guidance = guidance;
        this.problems = problems;
        cost = Bindings.createStringBinding(this::costText, on, steps, guidance, start, stop);
        note = Bindings.createStringBinding(this::noteText, blocks, recommended);
        on.addListener((o, a, b) -> check());
        layers.addListener((o, a, b) -> check());
        blocks.addListener((o, a, b) -> check());
    }

    public BooleanProperty onProperty() { return on; }
    /** The blocks to bypass as typed: {@code 7,8,9}. */
    public StringProperty layersProperty() { return layers; }
    public DoubleProperty scaleProperty() { return scale; }
    /** Fraction of the steps after which the extra pass starts. */
    public DoubleProperty startProperty() { return start; }
    /** Fraction of the steps where it stops. */
    public DoubleProperty stopProperty() { return stop; }
    /** The open model's transformer blocks: -1 while none is open, 0 when the model does not tell. */
    public ReadOnlyIntegerProperty blocksProperty() { return blocks.getReadOnlyProperty(); }
    public ReadOnlyObjectProperty<List<Integer>> recommendedProperty() { return recommended.getReadOnlyProperty(); }
    /** Why the layers cannot be used, as a sentence naming the valid range; null when they can (or SLG is off). */
    public ReadOnlyStringProperty problemProperty() { return problem.getReadOnlyProperty(); }
    /** "+1 pass on 5 of 28 steps", "off: needs guidance above 1", or empty while SLG is off. */
    public StringBinding costBinding() { return cost; }
    /** What the open model recommends and which blocks it has. */
    public StringBinding noteBinding() { return note; }

    /**
     * Takes the open model's blocks and recommendation. A newly chosen model ({@code applyDefaults})
     * gets its recommended layers and the usual values, and SLG goes off where it recommends none; the
     * model restored at start keeps the user's layers unless there are none.
     */
    void offer(Sd3Generator.ModelInfo info, boolean applyDefaults) {
        recommended.set(info.recommendedSkipLayers());
        blocks.set(info.transformerBlocks());
        String theirs = written(info.recommendedSkipLayers());
        if (applyDefaults) {
            layers.set(theirs);
            scale.set(SkipLayerGuidance.DEFAULT_SCALE);
            start.set(SkipLayerGuidance.DEFAULT_START);
            stop.set(SkipLayerGuidance.DEFAULT_STOP);
            if (theirs.isEmpty()) {
                on.set(false);
            }
        } else if (layers.get().isBlank()) {
            layers.set(theirs);
        }
        commitLayers(); // the blocks are known now: restored layers can be checked
    }

    /**
     * Remembers the layers as the ones Esc goes back to, when they are usable: called where typing ends
     * (Enter, focus loss) and where layers are put in, never per keystroke ("7,8,3" on the way to "7,8,30").
     */
    public void commitLayers() {
        if (problemWith(layers.get()) == null) {
            lastUsable = layers.get();
        }
    }

    /** Back to the last usable layers that were committed (Esc in the field). */
    public void revertLayers() {
        layers.set(lastUsable);
    }

    /** The layers for the request: none while SLG is off (the engine's "off"). */
    List<Integer> requestLayers() {
        if (!on.get()) {
            return List.of();
        }
        try {
            return SkipLayerGuidance.parseLayers(layers.get());
        } catch (EngineException e) {
            return List.of(); // Generate refuses first: the problem is listed
        }
    }

    void restore(Settings.SkipLayers s) {
        layers.set(s.layers());
        commitLayers();
        scale.set(s.scale());
        start.set(s.start());
        stop.set(s.stop());
        on.set(s.on());
    }

    Settings.SkipLayers snapshot() {
        return new Settings.SkipLayers(on.get(), layers.get(), scale.get(), start.get(), stop.get());
    }

    private void check() {
        String p = on.get() ? problemWith(layers.get()) : null;
        problem.set(p);
        if (p == null) {
            problems.remove(PROBLEM_KEY);
        } else {
            problems.put(PROBLEM_KEY, p);
        }
    }

    /** Why {@code text} is not a list of this model's blocks, or null when it is. */
    private String problemWith(String text) {
        int n = blocks.get();
        if (n == 0) {
            return "skip-layer guidance cannot run on this model: it does not tell its transformer blocks."
                    + " Turn SLG off";
        }
        String rule = "Skip layers must be block numbers" + (n > 0 ? " from 0 to " + (n - 1) : "")
                + ", separated by commas, such as " + (recommended.get().isEmpty() ? "7,8,9"
                : written(recommended.get()));
        if (text.isBlank()) {
            return rule + "; none are given (or turn SLG off)";
        }
        try {
            for (int layer : SkipLayerGuidance.parseLayers(text)) {
                if (layer < 0 || (n > 0 && layer >= n)) {
                    return rule + "; this model has no block " + layer;
                }
            }
            return null;
        } catch (EngineException e) {
            return rule + "; \"" + text.strip() + "\" is not one";
        }
    }

    private String costText() {
        if (!on.get()) {
            return "";
        }
        if (guidance.get() <= 1) {
            return "off: needs guidance above 1";
        }
        // which blocks are skipped changes nothing in the count: one block stands for any
        int passes = new SkipLayerGuidance(List.of(0), scale.get(), start.get(), stop.get()).extraPasses(steps.get());
        return "+1 pass on " + passes + " of " + steps.get() + " steps";
    }

    private String noteText() {
        int n = blocks.get();
        if (n < 0) {
            return "";
        }
        if (n == 0) {
            return "This model does not tell its transformer blocks, so skip-layer guidance cannot run on it.";
        }
        if (!recommended.get().isEmpty()) {
            return "Layers " + written(recommended.get())
                    + " are Stability AI's for this model (it has blocks 0 to " + (n - 1) + ").";
        }
        return "This model has no recommended layers; you may try some of its blocks 0 to " + (n - 1) + ".";
    }

    /** {@code 7,8,9}, as the command line and the PNG write layers. */
    private static String written(List<Integer> layers) {
        return new SkipLayerGuidance(layers, 0, 0, 0).layerList();
    }
}
