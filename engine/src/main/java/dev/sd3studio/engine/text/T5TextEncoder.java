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
        this.output = model.requireOutput("last_hidden_state");
    }

    public FloatTensor encode(long[][] ids, CancelToken cancel) throws EngineException {
        int batch = ids.length;
        int length = ids[0].length;
        long[] flat = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(ids[b], 0, flat, b * length, length);
        }
        return model.run(Map.of(), Map.of("input_ids", new OnnxModel.LongInput(new long[] {batch, length}, flat)),
                List.of(output), cancel).get(output);
    }

    @Override
    public void close() {
        model.close();
    }
}
