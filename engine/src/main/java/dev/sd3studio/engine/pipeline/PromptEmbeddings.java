package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.FloatTensor;

/**
 * The transformer's conditioning for a batch: {@code promptEmbeds} [B, 77+S, J] (CLIP tokens
 * zero-padded to J, then T5 tokens) and {@code pooledPromptEmbeds} [B, P_L+P_G].
 */
record PromptEmbeddings(FloatTensor promptEmbeds, FloatTensor pooledPromptEmbeds) {
    public PromptEmbeddings repeatEachItem(int times) {
        return new PromptEmbeddings(promptEmbeds.repeatEachItem(times), pooledPromptEmbeds.repeatEachItem(times));
    }

    /** [uncond…, cond…] along the batch axis, the order the reference feeds the transformer. */
    public static PromptEmbeddings forGuidance(PromptEmbeddings negative, PromptEmbeddings positive) {
        return new PromptEmbeddings(FloatTensor.concatBatch(negative.promptEmbeds, positive.promptEmbeds),
                FloatTensor.concatBatch(negative.pooledPromptEmbeds, positive.pooledPromptEmbeds));
    }
}
