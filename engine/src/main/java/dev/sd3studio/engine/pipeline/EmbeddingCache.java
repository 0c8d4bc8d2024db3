package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.GenerationRequest;

import java.util.List;

/**
 * Keeps the last prompt embeddings, so regenerating with an unchanged prompt (new seed, steps or
 * size) skips the text encoders. One entry: the common case is iterating on everything else.
 */
final class EmbeddingCache {
    record Key(List<String> prompts, List<String> prompts2, List<String> prompts3, List<String> negatives,
               List<String> negatives2, List<String> negatives3, Integer clipSkip, int maxSequenceLength,
               boolean dropT5, boolean guidance, int imagesPerPrompt) {
    }

    private Key key;
    private PromptEmbeddings value;

    static Key key(GenerationRequest r, boolean dropT5) {
        return new Key(r.prompts(), r.prompts2(), r.prompts3(), r.negatives(), r.negatives2(), r.negatives3(),
                r.clipSkip(), r.maxSequenceLength(), dropT5, r.usesGuidance(), r.imagesPerPrompt());
    }

    synchronized PromptEmbeddings get(Key k) {
        return k.equals(key) ? value : null;
    }

    synchronized void put(Key k, PromptEmbeddings v) {
        key = k;
        value = v;
    }
}
