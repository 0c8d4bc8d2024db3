package dev.sd3studio.engine.checkpoint;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * An opened checkpoint: per component, where its weights are; the configs its graphs are built from; and the
 * family it was recognised as. Only headers were read; every reference is checked and inside what the user
 * chose. Build one with {@link CheckpointOpener}.
 *
 * @param family                  empty when the MMDiT is none of the released models (configs then come from a config folder)
 * @param clipLIdentityProjection CLIP-L's pooled output is used unprojected: true for a single file or a separate
 *                                clip_l file (diffusers' and ComfyUI's rule), false for a diffusers folder's text_encoder
 */
public record Checkpoint(Path source, CheckpointFormat format, Optional<ModelFamily> family,
                         Map<CheckpointComponent, ComponentWeights> components, CheckpointConfigs configs,
                         boolean clipLIdentityProjection) {
    public Checkpoint {
        components = Map.copyOf(components);
    }

    public Optional<ComponentWeights> find(CheckpointComponent component) {
        return Optional.ofNullable(components.get(component));
    }

    public ComponentWeights require(CheckpointComponent component) throws EngineException {
        ComponentWeights w = components.get(component);
        if (w != null) {
            return w;
        }
        if (component == CheckpointComponent.T5) {
            throw new EngineException(Kind.MISSING_COMPONENT, source + " has no T5 text encoder. Put"
                    + " t5xxl_fp16.safetensors or t5xxl_fp8_e4m3fn.safetensors in a text_encoders/ folder beside it"
                    + " (or name one with --t5), or generate without T5 (drop T5): SD3 works without it, following"
                    + " long prompts less closely.");
        }
        throw new EngineException(Kind.MISSING_COMPONENT, source + " has no " + component.description() + ".");
    }
}
