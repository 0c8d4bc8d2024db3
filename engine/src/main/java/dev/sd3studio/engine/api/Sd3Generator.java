package dev.sd3studio.engine.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The engine as the app sees it: one model folder, ready to generate. Implementations own native
 * sessions, so close it when the model is switched or the app exits. One generation at a time.
 */
public interface Sd3Generator extends AutoCloseable {
    GenerationResult generate(GenerationRequest request, ProgressListener listener, CancelToken cancel)
            throws EngineException;

    /** The three tokenizers' view of a prompt: CLIP-L, CLIP-G (77 each) and T5 ({@code maxSequenceLength}). */
    Map<String, TokenCount> tokenize(String prompt, int maxSequenceLength) throws EngineException;

    /**
     * One tokenizer's view ({@code "tokenizer"}, {@code "tokenizer_2"} or {@code "tokenizer_3"}), or null
     * when the model has no such tokenizer. Cheaper than {@link #tokenize(String, int)} for callers that
     * search one encoder's cut point.
     */
    default TokenCount tokenize(String tokenizer, String prompt, int maxSequenceLength) throws EngineException {
        return tokenize(prompt, maxSequenceLength).get(tokenizer);
    }

    /** Facts the UI shows: default size, whether T5 / the VAE encoder exist, the device in use. */
    ModelInfo info();

    /**
     * Which keys of these LoRAs would change which layers of this model, and which change nothing, without
     * applying them (the studio's "LoRA details"). Fails like a generation would for unusable files.
     */
    default LoraReport loraReport(List<LoraSpec> loras) throws EngineException {
        throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL, "this engine cannot load LoRAs.");
    }

    /** Why the requested GPU is not used, if it is not. */
    Optional<String> deviceFallbackReason();

    @Override
    void close();

    /** Token ids of one tokenizer, padded/truncated to its limit, and the untruncated length. */
    record TokenCount(long[] ids, long[] attentionMask, int untruncatedLength, int limit) {
        public boolean truncated() {
            return untruncatedLength > limit;
        }
    }

    /**
     * What the UI needs to know about the open model.
     *
     * @param transformerBlocks     the MMDiT's blocks, numbered from 0 for skip-layer guidance; 0 when unknown
     * @param recommendedSkipLayers the blocks its makers recommend for skip-layer guidance (SD3.5 Medium: 7, 8, 9),
     *                              or empty
     */
    record ModelInfo(String name, int defaultWidth, int defaultHeight, int sizeMultiple, boolean hasT5,
                     boolean supportsImageToImage, String previewMethod, List<String> warnings,
                     int transformerBlocks, List<Integer> recommendedSkipLayers) {
        public ModelInfo {
            warnings = List.copyOf(warnings);
            recommendedSkipLayers = List.copyOf(recommendedSkipLayers);
        }

        /** A model without skip-layer facts. */
        public ModelInfo(String name, int defaultWidth, int defaultHeight, int sizeMultiple, boolean hasT5,
                         boolean supportsImageToImage, String previewMethod, List<String> warnings) {
            this(name, defaultWidth, defaultHeight, sizeMultiple, hasT5, supportsImageToImage, previewMethod, warnings,
                    0, List.of());
        }
    }
}
