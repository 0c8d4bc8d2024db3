package dev.sd3studio.engine.checkpoint;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.nio.file.Path;
import java.util.Collection;

/** Files that are not SD3 checkpoints, recognised by their tensor names and refused with a message that says what they are. */
final class KeyRefusals {
    private KeyRefusals() {
    }

    static void refuseOtherModels(Path file, Collection<String> names) throws EngineException {
        String family = null;
        for (String n : names) {
            if (n.startsWith("conditioner.embedders.")) {
                family = "an SDXL";
            } else if (n.startsWith("cond_stage_model.")) {
                family = "an SD1.x or SD2.x";
            } else if (n.startsWith("double_blocks.") || n.contains(".double_blocks.")) {
                family = "a Flux";
            }
            if (family != null) {
                throw new EngineException(Kind.INCOMPATIBLE_MODEL, file + ": this is " + family
                        + " checkpoint; SD3 Studio runs SD3 and SD3.5.");
            }
        }
        if (isLora(names)) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, file + " is a LoRA, not a checkpoint: add it as a LoRA"
                    + " to a model instead.");
        }
    }

    /** A LoRA's tensors are low-rank factor pairs, whatever naming it uses. */
    static boolean isLora(Collection<String> names) {
        return names.stream().anyMatch(n -> n.contains("lora_up.") || n.contains("lora_down.")
                || n.contains("lora_A.") || n.contains("lora_B."));
    }

    static EngineException pickle(Path file) {
        return new EngineException(Kind.INCOMPATIBLE_MODEL, file + " is a pickled PyTorch file (.ckpt/.pt/.pth/.bin)."
                + " SD3 Studio never opens those, because opening a pickle can run any code it contains."
                + " Download the model's .safetensors file instead.");
    }
}
