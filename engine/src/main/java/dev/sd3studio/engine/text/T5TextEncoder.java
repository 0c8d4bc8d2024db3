package dev.sd3studio.engine.text;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.runtime.OnnxModel;

import java.util.List;
import java.util.Map;

/** The T5 encoder: token ids [B, S] to its last hidden state [B, S, J]. No attention mask, as the reference. */
public final class T5TextEncoder implements AutoCloseable {
    private final OnnxModel model;
    private final String output;

    public T5TextEncoder(OnnxModel model) throws EngineException {
        this.model = model;
        model.requireInputs("input_ids");
        model.requireIdInput("input_ids");
        this.output = model.requireOutput("last_hidden_state");
    }

    public FloatTensor encode(long[][] ids, CancelToken cancel) throws EngineException {
        return model.run(Map.of(), Map.of("input_ids", OnnxModel.LongInput.ofRows(ids)), List.of(output), cancel)
                .get(output);
    }

    @Override
    public void close() {
        model.close();
    }
}
