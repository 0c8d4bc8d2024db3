package dev.sd3studio.engine.diffusion;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.runtime.OnnxModel;

import java.util.List;
import java.util.Map;

/**
 * The MMDiT: predicts the flow velocity for latents at a timestep, conditioned on the prompt
 * embeddings. Takes the Optimum output name or the TensorStack one ({@code out_sample}).
 */
public final class Sd3Transformer implements AutoCloseable {
    private final OnnxModel model;
    private final String output;

    public Sd3Transformer(OnnxModel model) throws EngineException {
        this.model = model;
        model.requireInputs("hidden_states", "encoder_hidden_states", "pooled_projections", "timestep");
        this.output = model.requireOutput("out_hidden_states", "out_sample", "sample");
    }

    /** The T5 width J the model expects for its text tokens, or -1 when the export leaves it symbolic. */
    public long jointAttentionDim() {
        return model.inputDim("encoder_hidden_states", 2);
    }

    /**
     * @param timestep σ·1000, one per batch row
     */
    public FloatTensor predict(FloatTensor latents, FloatTensor promptEmbeds, FloatTensor pooled, float[] timestep,
                               CancelToken cancel) throws EngineException {
        Map<String, FloatTensor> in = Map.of(
                "hidden_states", latents,
                "encoder_hidden_states", promptEmbeds,
                "pooled_projections", pooled,
                "timestep", new FloatTensor(new long[] {timestep.length}, timestep));
        return model.run(in, Map.of(), List.of(output), cancel).get(output);
    }

    @Override
    public void close() {
        model.close();
    }
}
