package dev.sd3studio.engine.text;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.runtime.OnnxModel;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A CLIP text tower with projection (CLIP-L or CLIP-G): gives the pooled, projected embedding and
 * the hidden states of the layer SD3 conditions on (sd3-pipeline.md §2).
 */
public final class ClipTextEncoder implements AutoCloseable {
    private static final Pattern HIDDEN = Pattern.compile("hidden_states\\.(\\d+)");

    private final OnnxModel model;
    private final String pooledOutput;
    /** N, the number of transformer layers; hidden_states.0 is the embedding output. */
    private final int layers;

    public ClipTextEncoder(OnnxModel model) throws EngineException {
        this.model = model;
        model.requireInputs("input_ids");
        model.requireIdInput("input_ids");
        this.pooledOutput = model.requireOutput("text_embeds");
        int max = -1;
        for (String name : model.outputNames()) {
            Matcher m = HIDDEN.matcher(name);
            if (m.matches()) {
                max = Math.max(max, Integer.parseInt(m.group(1)));
            }
        }
        this.layers = max;
    }

    /** Why this export cannot give the exact reference layer, if it cannot. */
    public Optional<String> hiddenStateWarning() {
        if (layers >= 1) {
            return Optional.empty();
        }
        return Optional.of(model.component() + " exports no per-layer hidden states; using last_hidden_state"
                + " (after the final layer norm) instead of the penultimate layer: images will differ from"
                + " the reference. Re-export it with output_hidden_states.");
    }

    /** The output holding {@code hidden_states[-(clipSkip + 2)]}, or the closest one available. */
    String hiddenOutput(int clipSkip) throws EngineException {
        if (layers < 1) {
            return model.requireOutput("last_hidden_state");
        }
        int index = layers - 1 - clipSkip;
        if (index < 0) {
            throw EngineException.invalid("clip skip " + clipSkip + " is too large for " + model.component()
                    + " with " + layers + " layers; use at most " + (layers - 1) + ".");
        }
        return "hidden_states." + index;
    }

    /** Pooled [B, P] and hidden [B, 77, D] for a batch of token id rows. */
    public Output encode(long[][] ids, int clipSkip, CancelToken cancel) throws EngineException {
        String hidden = hiddenOutput(clipSkip);
        Map<String, FloatTensor> out = model.run(Map.of(), Map.of("input_ids", OnnxModel.LongInput.ofRows(ids)),
                List.of(pooledOutput, hidden), cancel);
        return new Output(out.get(pooledOutput), out.get(hidden));
    }

    public record Output(FloatTensor pooled, FloatTensor hidden) {
    }

    @Override
    public void close() {
        model.close();
    }
}
