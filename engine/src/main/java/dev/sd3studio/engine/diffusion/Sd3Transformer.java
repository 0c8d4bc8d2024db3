package dev.sd3studio.engine.diffusion;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.SkipLayerGraph;

import java.util.List;
import java.util.Map;

/**
 * The MMDiT: predicts the flow velocity for latents at a timestep, conditioned on the prompt
 * embeddings. Takes the Optimum output name or the TensorStack one ({@code out_sample}).
 */
public final class Sd3Transformer implements AutoCloseable {
    private final OnnxModel model;
    private final String output;
    /** Blocks a run can bypass: all of them when the session was opened rewired for that, else none. */
    private final int skippableBlocks;

    public Sd3Transformer(OnnxModel model) throws EngineException {
        this.model = model;
        model.requireInputs("hidden_states", "encoder_hidden_states", "pooled_projections", "timestep");
        model.requireValueInputs("hidden_states", "encoder_hidden_states", "pooled_projections", "timestep");
        this.output = model.requireOutput("out_hidden_states", "out_sample", "sample");
        this.skippableBlocks = model.inputs().containsKey(SkipLayerGraph.INPUT)
                ? (int) model.inputDim(SkipLayerGraph.INPUT, 0) : 0;
    }

    /** How many blocks a {@link #condition(FloatTensor, FloatTensor, long[], int, List) bypassing} run may skip: 0 unless rewired. */
    public int skippableBlocks() {
        return skippableBlocks;
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
        try (Conditioned c = condition(promptEmbeds, pooled, latents.shape(), 1)) {
            return c.predict(latents, timestep, cancel);
        }
    }

    /**
     * The inputs that stay the same for a whole generation, made once (converted to the export's
     * element type once), and one latent buffer that each step rewrites in place.
     *
     * @param latentShape the shape of one copy of the latents; {@code copies} of them make the batch (2 with CFG)
     */
    public Conditioned condition(FloatTensor promptEmbeds, FloatTensor pooled, long[] latentShape, int copies)
            throws EngineException {
        return condition(promptEmbeds, pooled, latentShape, copies, List.of());
    }

    /**
     * Like {@link #condition(FloatTensor, FloatTensor, long[], int)}, with {@code bypassed} blocks passing
     * both their streams through unchanged (skip-layer guidance); needs a session opened rewired for it.
     */
    public Conditioned condition(FloatTensor promptEmbeds, FloatTensor pooled, long[] latentShape, int copies,
                                 List<Integer> bypassed) throws EngineException {
        FloatTensor skip = null;
        if (skippableBlocks > 0) {
            float[] flags = new float[skippableBlocks];
            bypassed.forEach(block -> flags[block] = 1);
            skip = new FloatTensor(new long[] {skippableBlocks}, flags);
        } else if (!bypassed.isEmpty()) {
            throw new IllegalStateException("this transformer session cannot bypass blocks");
        }
        long[] shape = latentShape.clone();
        shape[0] *= copies;
        OnnxModel.Input text = model.input("encoder_hidden_states", promptEmbeds);
        OnnxModel.Input pooledInput = null;
        OnnxModel.Input hidden = null;
        try {
            pooledInput = model.input("pooled_projections", pooled);
            hidden = model.input("hidden_states",
                    new FloatTensor(shape, new float[Math.toIntExact(FloatTensor.elementCount(shape))]));
            // the velocity has the latents' shape: ORT writes it into one buffer every step
            OnnxModel.Output prediction = model.output(output, shape);
            return new Conditioned(text, pooledInput, hidden, prediction, copies, skip);
        } catch (EngineException | RuntimeException e) {
            text.close();
            if (pooledInput != null) {
                pooledInput.close();
            }
            if (hidden != null) {
                hidden.close();
            }
            throw e;
        }
    }

    /** One generation's kept transformer inputs; see {@link #condition}. */
    public final class Conditioned implements AutoCloseable {
        private final OnnxModel.Input text;
        private final OnnxModel.Input pooled;
        private final OnnxModel.Input hidden;
        private final OnnxModel.Output prediction;
        private final int copies;
        /** One flag per block, 1 = bypassed, for a rewired session; null otherwise. */
        private final FloatTensor skip;

        private Conditioned(OnnxModel.Input text, OnnxModel.Input pooled, OnnxModel.Input hidden,
                            OnnxModel.Output prediction, int copies, FloatTensor skip) {
            this.text = text;
            this.pooled = pooled;
            this.hidden = hidden;
            this.prediction = prediction;
            this.copies = copies;
            this.skip = skip;
        }

        /** The velocity for {@code copies} copies of {@code latents} at one timestep per batch row. */
        public FloatTensor predict(FloatTensor latents, float[] timestep, CancelToken cancel) throws EngineException {
            hidden.setRepeated(latents.data(), copies);
            FloatTensor t = new FloatTensor(new long[] {timestep.length}, timestep);
            return model.run(skip == null ? Map.of("timestep", t) : Map.of("timestep", t, SkipLayerGraph.INPUT, skip),
                    Map.of("encoder_hidden_states", text, "pooled_projections", pooled, "hidden_states", hidden),
                    prediction, cancel);
        }

        @Override
        public void close() {
            prediction.close();
            hidden.close();
            pooled.close();
            text.close();
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
