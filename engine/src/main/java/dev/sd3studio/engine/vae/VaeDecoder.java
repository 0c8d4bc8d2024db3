package dev.sd3studio.engine.vae;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.runtime.OnnxModel;

import java.util.List;
import java.util.Map;

/**
 * A latent decoder (the VAE's, or TAESD3's for previews): latents [B, 16, h, w] in its own latent
 * space to an image [B, 3, 8h, 8w] in about [−1, 1].
 */
public final class VaeDecoder implements AutoCloseable {
    private final OnnxModel model;
    private final String output;

    public VaeDecoder(OnnxModel model) throws EngineException {
        this.model = model;
        model.requireInputs("latent_sample");
        model.requireValueInputs("latent_sample");
        this.output = model.requireOutput("sample");
    }

    public FloatTensor decode(FloatTensor latents, CancelToken cancel) throws EngineException {
        return model.run(Map.of("latent_sample", latents), Map.of(), List.of(output), cancel).get(output);
    }

    @Override
    public void close() {
        model.close();
    }
}
