package dev.sd3studio.app.studio.vm;

import javafx.beans.property.BooleanProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

import java.util.List;

/** The prompts, their token counts per encoder, and the history of prompts generated with. */
public final class PromptViewModel {
    static final int HISTORY_SIZE = 50;

    private final StringProperty prompt = new SimpleStringProperty("");
    private final StringProperty negative = new SimpleStringProperty("");
    private final StringProperty prompt2 = new SimpleStringProperty("");
    private final StringProperty prompt3 = new SimpleStringProperty("");
    private final StringProperty negative2 = new SimpleStringProperty("");
    private final StringProperty negative3 = new SimpleStringProperty("");
    private final BooleanProperty perEncoder = new SimpleBooleanProperty(false);
    private final ObservableList<TokenInfo> tokens = FXCollections.observableArrayList();
    private final ObservableList<String> history = FXCollections.observableArrayList();
    private final ObjectProperty<ModelHints> hints = new SimpleObjectProperty<>(ModelHints.NONE);
    private final StringProperty hint = new SimpleStringProperty("");

    public PromptViewModel() {
        Runnable check = () -> {
            String p = prompt.get();
            ModelHints h = hints.get();
            // on the FX thread at every keystroke: only checked when there is a hint to show (follows is linear)
            hint.set(p.isBlank() || h.hint().isBlank() || h.follows(p) ? "" : h.hint());
        };
        prompt.addListener((o, a, b) -> check.run());
        hints.addListener((o, a, b) -> check.run());
    }

    /** What the chosen model declares: examples, sizes, its prompt grammar. */
    public ObjectProperty<ModelHints> hintsProperty() {
        return hints;
    }

    /** A gentle note when the prompt is outside what the model understands; empty otherwise. */
    public StringProperty hintProperty() {
        return hint;
    }

    /** Replaces the prompt with a random one the model understands (from its grammar or examples). */
    public void randomExample() {
        hints.get().randomPrompt(java.util.concurrent.ThreadLocalRandom.current()).ifPresent(prompt::set);
    }

    public StringProperty promptProperty() {
        return prompt;
    }

    public StringProperty negativeProperty() {
        return negative;
    }

    /** Prompt for the second encoder (CLIP-G); empty means "same as the prompt". */
    public StringProperty prompt2Property() {
        return prompt2;
    }

    /** Prompt for the third encoder (T5); empty means "same as the prompt". */
    public StringProperty prompt3Property() {
        return prompt3;
    }

    /** Negative prompt for CLIP-G; empty means "same as the negative prompt". */
    public StringProperty negative2Property() {
        return negative2;
    }

    /** Negative prompt for T5; empty means "same as the negative prompt". */
    public StringProperty negative3Property() {
        return negative3;
    }

    /** Whether the per-encoder prompts are shown (collapsed by default). */
    public BooleanProperty perEncoderProperty() {
        return perEncoder;
    }

    public ObservableList<TokenInfo> tokens() {
        return tokens;
    }

    public ObservableList<String> history() {
        return history;
    }

    /** Newest first, without duplicates, bounded. */
    public void remember(String text) {
        if (text == null || text.isBlank()) {
            return;
        }
        history.remove(text);
        history.addFirst(text);
        if (history.size() > HISTORY_SIZE) {
            history.remove(HISTORY_SIZE, history.size());
        }
    }

    public void restoreHistory(List<String> items) {
        history.setAll(items.stream().limit(HISTORY_SIZE).toList());
    }
}
