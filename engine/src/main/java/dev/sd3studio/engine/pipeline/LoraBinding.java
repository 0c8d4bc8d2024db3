package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.LoraReport;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.lora.LoraSelection;
import dev.sd3studio.engine.lora.LoraSelection.ComponentPlan;
import dev.sd3studio.engine.lora.OnnxWeights;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.model.ModelSource;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The LoRAs the engine currently applies. Selecting a list matches it against the component graphs
 * (read once per component, weights skipped) and keeps the plan; {@link ComponentSessions} compares each
 * component's plan fingerprint with the one its session was built with and rebuilds only what changed.
 */
final class LoraBinding implements AutoCloseable {
    private final ModelSource folder;
    private final Map<Component, OnnxWeights> graphs = new EnumMap<>(Component.class);
    private LoraSelection current = LoraSelection.none();
    private boolean t5Dropped;

    LoraBinding(ModelSource folder) {
        this.folder = folder;
    }

    /** Makes {@code loras} current (re-reading the files only when the list, a scale or a file changed). */
    synchronized LoraSelection select(List<LoraSpec> loras, boolean dropT5) throws EngineException {
        if (loras.equals(current.specs()) && dropT5 == t5Dropped && !filesChanged()) {
            return current;
        }
        LoraSelection next = loras.isEmpty() ? LoraSelection.none() : LoraSelection.select(loras, c -> graph(c, dropT5));
        current.close();
        current = next;
        t5Dropped = dropT5;
        return next;
    }

    /** The match report of a list without making it current, for a UI's "details". */
    synchronized LoraReport inspect(List<LoraSpec> loras) throws EngineException {
        try (LoraSelection s = LoraSelection.select(loras, c -> graph(c, false))) {
            return s.report();
        }
    }

    /** A LoRA retrained in place (new size or time stamp) must not keep its old merge. */
    private boolean filesChanged() {
        return !current.stamps().equals(current.specs().stream().map(LoraSelection::fingerprint).toList());
    }

    synchronized ComponentPlan plan(Component c) {
        return current.plan(c);
    }

    /** What the text encoders are built with, for the embedding cache key. */
    synchronized List<List<String>> textEncoderFingerprints() {
        return List.of(current.plan(Component.TEXT_ENCODER).fingerprint(),
                current.plan(Component.TEXT_ENCODER_2).fingerprint(),
                current.plan(Component.TEXT_ENCODER_3).fingerprint());
    }

    private Optional<OnnxWeights> graph(Component c, boolean dropT5) throws EngineException {
        if (c == Component.TEXT_ENCODER_3 && dropT5) {
            return Optional.empty();
        }
        if (!graphs.containsKey(c)) {
            graphs.put(c, folder.linearWeights(c).orElse(null));
        }
        return Optional.ofNullable(graphs.get(c));
    }

    @Override
    public synchronized void close() {
        current.close();
        current = LoraSelection.none();
    }
}
