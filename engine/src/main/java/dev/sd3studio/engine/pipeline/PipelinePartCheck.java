package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.diffusion.Sd3Transformer;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.model.PartCheck;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.text.ClipTextEncoder;
import dev.sd3studio.engine.text.PromptTokenizer;
import dev.sd3studio.engine.text.T5TextEncoder;
import dev.sd3studio.engine.vae.VaeDecoder;
import dev.sd3studio.engine.vae.VaeEncoder;

import java.nio.file.Path;

/** check-model's interface checks are the pipeline's own: its wrappers' constructors and tokenizer loading. */
public final class PipelinePartCheck implements PartCheck {
    @Override
    public void component(Component c, OnnxModel model) throws EngineException {
        // the wrappers only check names here; closing the model is the caller's
        switch (c) {
            case TEXT_ENCODER, TEXT_ENCODER_2 -> new ClipTextEncoder(model);
            case TEXT_ENCODER_3 -> new T5TextEncoder(model);
            case TRANSFORMER -> new Sd3Transformer(model);
            case VAE_DECODER -> new VaeDecoder(model);
            case VAE_ENCODER -> new VaeEncoder(model);
        }
    }

    @Override
    public void tokenizer(String name, Path dir) throws EngineException {
        PromptTokenizer.open(name, dir).close();
    }
}
