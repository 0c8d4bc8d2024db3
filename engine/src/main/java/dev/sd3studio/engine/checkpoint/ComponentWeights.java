package dev.sd3studio.engine.checkpoint;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * One component's weights: its names (the file's, with any {@code model.diffusion_model.} style prefix
 * removed) to where each one's bytes are.
 *
 * @param folder the folder every weight file of the component lies in or under: the graph's external data folder
 */
public record ComponentWeights(CheckpointComponent component, WeightNaming naming, Path folder,
                               Map<String, WeightRef> weights) {
    public ComponentWeights {
        weights = Map.copyOf(weights);
    }

    public Optional<WeightRef> find(String name) {
        return Optional.ofNullable(weights.get(name));
    }

    /** The weight called {@code name}, or a message naming it and the component. */
    public WeightRef require(String name) throws EngineException {
        WeightRef w = weights.get(name);
        if (w == null) {
            throw new EngineException(Kind.CORRUPT_FILE, component.description() + " in " + folder
                    + " has no weight '" + name + "'; the file is incomplete or belongs to another model.");
        }
        return w;
    }

    public boolean has(String name) {
        return weights.containsKey(name);
    }
}
