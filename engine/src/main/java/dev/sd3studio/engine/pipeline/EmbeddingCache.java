package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.ProgressListener;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Keeps the last prompt embeddings, so regenerating with an unchanged prompt (new seed, steps or
 * size) skips the text encoders. One entry: the common case is iterating on everything else. The
 * token ids and embeddings reported while encoding are kept too and replayed, so dumps and
 * warnings do not depend on whether the cache was hit.
 */
final class EmbeddingCache {
    record Key(List<String> prompts, List<String> prompts2, List<String> prompts3, List<String> negatives,
               List<String> negatives2, List<String> negatives3, Integer clipSkip, int maxSequenceLength,
               boolean dropT5, boolean guidance, int imagesPerPrompt, List<List<String>> textEncoderLoras) {
    }

    /** Cached embeddings with what encoding them reported. */
    record Entry(PromptEmbeddings embeddings, List<Consumer<ProgressListener>> reports) {
        void replay(ProgressListener l) {
            reports.forEach(r -> r.accept(l));
        }
    }

    /** Passes events on while remembering the ones to replay on a cache hit. */
    static final class Recording extends ForwardingListener {
        private final List<Consumer<ProgressListener>> reports = new ArrayList<>();

        Recording(ProgressListener delegate) {
            super(delegate);
        }

        @Override
        public void warning(String message) {
            super.warning(message);
            reports.add(l -> l.warning(message));
        }

        @Override
        public void tensor(String name, FloatTensor value) {
            super.tensor(name, value);
            reports.add(l -> l.tensor(name, value));
        }

        @Override
        public void ids(String name, long[][] ids) {
            super.ids(name, ids);
            reports.add(l -> l.ids(name, ids));
        }

        Entry finish(PromptEmbeddings embeddings) {
            return new Entry(embeddings, List.copyOf(reports));
        }
    }

    private Key key;
    private Entry value;

    /** {@code textEncoderLoras}: what the text encoders are built with; other LoRAs leave embeddings alone. */
    static Key key(GenerationRequest r, boolean dropT5, List<List<String>> textEncoderLoras) {
        return new Key(r.prompts(), r.prompts2(), r.prompts3(), r.negatives(), r.negatives2(), r.negatives3(),
                r.clipSkip(), r.maxSequenceLength(), dropT5, r.usesGuidance(), r.imagesPerPrompt(), textEncoderLoras);
    }

    synchronized Entry get(Key k) {
        return k.equals(key) ? value : null;
    }

    synchronized void put(Key k, Entry v) {
        key = k;
        value = v;
    }
}
