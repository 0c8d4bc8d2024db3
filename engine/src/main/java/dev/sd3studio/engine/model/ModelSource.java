package dev.sd3studio.engine.model;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.lora.OnnxWeights;
import dev.sd3studio.engine.runtime.ComponentGraph;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What a model offers the pipeline, wherever its graphs come from: an ONNX export's folder
 * ({@link ModelFolder}) or a checkpoint whose graphs the engine builds over the user's weight files
 * ({@code graph.CheckpointModel}). The pipeline asks only this, so it does not care which.
 */
public interface ModelSource {
    /** The folder or checkpoint file the user chose: what messages name. */
    Path root();

    String displayName();

    /** Whether the model has this component (T5 and the VAE encoder are optional). */
    boolean has(Component c);

    /**
     * The graph of a component, or an error saying what is missing and what to do. {@code skippableBlocks}
     * asks for a transformer whose blocks a run can bypass; a file is rewired for that when it is opened.
     */
    ComponentGraph require(Component c, boolean skippableBlocks) throws EngineException;

    TransformerConfig transformerConfig() throws EngineException;

    VaeConfig vaeConfig() throws EngineException;

    SchedulerConfig schedulerConfig() throws EngineException;

    /** The tokenizer folder of text encoder 1 (CLIP-L), 2 (CLIP-G) or 3 (T5). */
    Path tokenizerDir(int index) throws EngineException;

    /** Where a preview model ({@code taesd3/}) that came with the model would be. */
    Path previewSearchFolder();

    /**
     * The linear layers of a component's graph that LoRAs merge into, with their module paths and where their
     * weights are (read with the weights skipped); empty when the model has no such component.
     */
    Optional<OnnxWeights> linearWeights(Component c) throws EngineException;

    /** Short words for the kind of model: "ONNX export", "checkpoint (single file, F16)". */
    String kind();
}
