package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.studio.task.TaskRunner;
import dev.sd3studio.engine.api.Sd3Generator;

import java.time.Duration;
import java.util.Map;

/**
 * Live token counts under the prompt. Counting runs native tokenizers (a long prompt costs dozens of
 * encodes to find the cut points), so requests are debounced and at most one count runs at a time;
 * when edits arrive meanwhile, only the newest text is counted next.
 */
public final class TokenCounter {
    static final Duration DEBOUNCE = Duration.ofMillis(250);

    private final TaskRunner runner;
    private final EngineSession session;
    private final PromptViewModel prompt;
    private final ParametersViewModel params;
    private Runnable cancelPending = () -> { };
    private boolean counting;
    private boolean stale;

    TokenCounter(TaskRunner runner, EngineSession session, PromptViewModel prompt, ParametersViewModel params) {
        this.runner = runner;
        this.session = session;
        this.prompt = prompt;
        this.params = params;
        prompt.promptProperty().addListener((o, a, b) -> request());
        prompt.prompt2Property().addListener((o, a, b) -> request());
        prompt.prompt3Property().addListener((o, a, b) -> request());
        prompt.perEncoderProperty().addListener((o, a, b) -> request());
        params.maxSequenceLengthProperty().addListener((o, a, b) -> request());
        params.dropT5Property().addListener((o, a, b) -> request());
    }

    /** Recounts after a short pause in editing. */
    public void request() {
        cancelPending.run();
        cancelPending = runner.later(DEBOUNCE, this::countNow);
    }

    /** Recounts the current text at once (a model just opened). */
    void countNow() {
        if (counting) {
            stale = true; // the running count's answer is outdated; count again when it returns
            return;
        }
        ModelEntry m = params.modelProperty().get();
        Sd3Generator gen = m == null ? null : session.peek(m.folder());
        if (gen == null) {
            return;
        }
        String main = prompt.promptProperty().get();
        boolean per = prompt.perEncoderProperty().get();
        Map<String, String> texts = Map.of("tokenizer", main,
                "tokenizer_2", per && !prompt.prompt2Property().get().isBlank() ? prompt.prompt2Property().get() : main,
                "tokenizer_3", per && !prompt.prompt3Property().get().isBlank() ? prompt.prompt3Property().get() : main);
        int maxSeq = params.maxSequenceLengthProperty().get();
        boolean drop = params.dropT5Property().get();
        counting = true;
        runner.run("tokenize", () -> Tokens.count(gen, texts, maxSeq, drop), counts -> {
            if (!finish()) {
                prompt.tokens().setAll(counts);
            }
        }, e -> finish() /* a model closed mid-count: the next edit recounts */);
    }

    /** @return whether a newer count was started instead of showing this one */
    private boolean finish() {
        counting = false;
        if (stale) {
            stale = false;
            countNow();
            return true;
        }
        return false;
    }

    void clear() {
        prompt.tokens().clear();
    }
}
