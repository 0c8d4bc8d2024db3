package dev.sd3studio.engine.vae;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.runtime.OnnxModel;

import java.util.List;
import java.util.Map;

/**
 * The VAE encoder: an image [B, 3, H, W] in [−1, 1] to either the posterior's parameters
 * ({@code latent_parameters}: mean and log-variance stacked on the channel axis) or, for exports
 * that sample inside the graph, a latent sample.
 */
public final class VaeEncoder implements AutoCloseable {
    private final OnnxModel model;
    private final String output;

    public VaeEncoder(OnnxModel model) throws EngineException {
        this.model = model;
        model.requireInputs("sample");
        this.output = model.requireOutput("latent_parameters", "latent_sample", "latent_dist");
    }

    /** True when the output holds mean and log-variance, false when it is already a latent sample. */
    public boolean givesParameters() {
        return output.equals("latent_parameters") || output.equals("latent_dist");
    }

    public FloatTensor encode(FloatTensor image, CancelToken cancel) throws EngineException {
        return model.run(Map.of("sample", image), Map.of(), List.of(output), cancel).get(output);
    }

    @Override
    public void close() {
        model.close();
    }
}
