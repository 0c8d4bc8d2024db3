package dev.sd3studio.engine.api;

import java.util.List;
import java.util.Objects;

/**
 * Everything one generation needs, with the reference pipeline's defaults. Lists of prompts form a
 * batch: {@code prompts2}/{@code prompts3} default to {@code prompts}, {@code negatives} to the
 * empty prompt and {@code negatives2}/{@code negatives3} to {@code negatives}. A single negative
 * applies to every prompt. Null sizes mean "the model's default size".
 *
 * @param initialLatents the initial noise for the whole batch, NCHW; replaces the seed
 * @param initImage      for image-to-image: the start picture; null for text-to-image
 * @param encoderNoise   image-to-image: the ε that samples the VAE posterior; from the seed if null
 * @param previewEvery   publish a preview every this many steps; 0 disables previews
 * @param loras          LoRAs merged into the model for this generation, in order, each with its scale
 * @param mask           inpainting (with {@code initImage}): white repaints, black keeps; null otherwise
 * @param keepUnmasked   inpainting: paste the start picture's pixels back outside the mask after
 *                       decoding (the reference does not, so off by default)
 * @param noiseSlice     with a seed and a batch of one: take that image's noise from a larger batch's draw
 * @param skipLayers     skip-layer guidance; {@link SkipLayerGuidance#OFF} (no layers) when not used
 */
public record GenerationRequest(
        List<String> prompts, List<String> prompts2, List<String> prompts3,
        List<String> negatives, List<String> negatives2, List<String> negatives3,
        Integer width, Integer height, int steps, double guidance, Double shift,
        int maxSequenceLength, Integer clipSkip, boolean dropT5, int imagesPerPrompt,
        Long seed, FloatTensor initialLatents,
        RgbImage initImage, double strength, FloatTensor encoderNoise,
        int previewEvery, List<LoraSpec> loras, RgbImage mask, boolean keepUnmasked,
        NoiseSlice noiseSlice, SkipLayerGuidance skipLayers) {

    public static final int DEFAULT_STEPS = 28;
    public static final double DEFAULT_GUIDANCE = 7.0;
    public static final int DEFAULT_MAX_SEQUENCE_LENGTH = 256;
    public static final double DEFAULT_STRENGTH = 0.6;

    public GenerationRequest {
        prompts = List.copyOf(prompts);
        prompts2 = List.copyOf(Objects.requireNonNullElse(prompts2, List.of()));
        prompts3 = List.copyOf(Objects.requireNonNullElse(prompts3, List.of()));
        negatives = List.copyOf(Objects.requireNonNullElse(negatives, List.of()));
        negatives2 = List.copyOf(Objects.requireNonNullElse(negatives2, List.of()));
        negatives3 = List.copyOf(Objects.requireNonNullElse(negatives3, List.of()));
        loras = List.copyOf(Objects.requireNonNullElse(loras, List.of()));
        skipLayers = Objects.requireNonNullElse(skipLayers, SkipLayerGuidance.OFF);
    }

    public static Builder builder() {
        return new Builder();
    }

    public static Builder builder(String prompt) {
        return new Builder().setPrompts(List.of(prompt));
    }

    /** Classifier-free guidance runs exactly when the scale is above 1, as in the reference. */
    public boolean usesGuidance() {
        return guidance > 1.0;
    }

    public boolean isImageToImage() {
        return initImage != null;
    }

    /** Inpainting is image-to-image with a mask: only the white part of the mask is repainted. */
    public boolean isInpainting() {
        return initImage != null && mask != null;
    }

    public int batchSize() {
        return prompts.size() * imagesPerPrompt;
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.prompts = prompts;
        b.prompts2 = prompts2;
        b.prompts3 = prompts3;
        b.negatives = negatives;
        b.negatives2 = negatives2;
        b.negatives3 = negatives3;
        b.width = width;
        b.height = height;
        b.steps = steps;
        b.guidance = guidance;
        b.shift = shift;
        b.maxSequenceLength = maxSequenceLength;
        b.clipSkip = clipSkip;
        b.dropT5 = dropT5;
        b.imagesPerPrompt = imagesPerPrompt;
        b.seed = seed;
        b.initialLatents = initialLatents;
        b.initImage = initImage;
        b.strength = strength;
        b.encoderNoise = encoderNoise;
        b.previewEvery = previewEvery;
        b.loras = loras;
        b.mask = mask;
        b.keepUnmasked = keepUnmasked;
        b.noiseSlice = noiseSlice;
        b.skipLayers = skipLayers.layers();
        b.skipLayerScale = skipLayers.scale();
        b.skipLayerStart = skipLayers.start();
        b.skipLayerStop = skipLayers.stop();
        return b;
    }

    /** Builder: {@code set…} for what a request needs, {@code opt…} for the rest. */
    public static final class Builder {
        private List<String> prompts = List.of();
        private List<String> prompts2 = List.of();
        private List<String> prompts3 = List.of();
        private List<String> negatives = List.of();
        private List<String> negatives2 = List.of();
        private List<String> negatives3 = List.of();
        private Integer width;
        private Integer height;
        private int steps = DEFAULT_STEPS;
        private double guidance = DEFAULT_GUIDANCE;
        private Double shift;
        private int maxSequenceLength = DEFAULT_MAX_SEQUENCE_LENGTH;
        private Integer clipSkip;
        private boolean dropT5;
        private int imagesPerPrompt = 1;
        private Long seed;
        private FloatTensor initialLatents;
        private RgbImage initImage;
        private double strength = DEFAULT_STRENGTH;
        private FloatTensor encoderNoise;
        private int previewEvery = 1;
        private List<LoraSpec> loras = List.of();
        private RgbImage mask;
        private boolean keepUnmasked;
        private NoiseSlice noiseSlice;
        private List<Integer> skipLayers = List.of();
        private double skipLayerScale = SkipLayerGuidance.DEFAULT_SCALE;
        private double skipLayerStart = SkipLayerGuidance.DEFAULT_START;
        private double skipLayerStop = SkipLayerGuidance.DEFAULT_STOP;

        public Builder setPrompts(List<String> v) { prompts = v; return this; }
        public Builder optPrompts2(List<String> v) { prompts2 = v; return this; }
        public Builder optPrompts3(List<String> v) { prompts3 = v; return this; }
        public Builder optNegatives(List<String> v) { negatives = v; return this; }
        public Builder optNegatives2(List<String> v) { negatives2 = v; return this; }
        public Builder optNegatives3(List<String> v) { negatives3 = v; return this; }
        public Builder optSize(Integer w, Integer h) { width = w; height = h; return this; }
        public Builder optSteps(int v) { steps = v; return this; }
        public Builder optGuidance(double v) { guidance = v; return this; }
        public Builder optShift(Double v) { shift = v; return this; }
        public Builder optMaxSequenceLength(int v) { maxSequenceLength = v; return this; }
        public Builder optClipSkip(Integer v) { clipSkip = v; return this; }
        public Builder optDropT5(boolean v) { dropT5 = v; return this; }
        public Builder optImagesPerPrompt(int v) { imagesPerPrompt = v; return this; }
        public Builder optSeed(Long v) { seed = v; return this; }
        public Builder optInitialLatents(FloatTensor v) { initialLatents = v; return this; }
        public Builder optInitImage(RgbImage v) { initImage = v; return this; }
        public Builder optStrength(double v) { strength = v; return this; }
        public Builder optEncoderNoise(FloatTensor v) { encoderNoise = v; return this; }
        public Builder optPreviewEvery(int v) { previewEvery = v; return this; }
        public Builder optLoras(List<LoraSpec> v) { loras = v; return this; }
        public Builder optMask(RgbImage v) { mask = v; return this; }
        public Builder optKeepUnmasked(boolean v) { keepUnmasked = v; return this; }
        public Builder optNoiseSlice(NoiseSlice v) { noiseSlice = v; return this; }
        /** Skip-layer guidance on these blocks (empty: off); see {@link SkipLayerGuidance}. */
        public Builder optSkipLayers(List<Integer> v) { skipLayers = v; return this; }
        public Builder optSkipLayerScale(double v) { skipLayerScale = v; return this; }
        public Builder optSkipLayerStart(double v) { skipLayerStart = v; return this; }
        public Builder optSkipLayerStop(double v) { skipLayerStop = v; return this; }

        public GenerationRequest build() {
            return new GenerationRequest(prompts, prompts2, prompts3, negatives, negatives2, negatives3,
                    width, height, steps, guidance, shift, maxSequenceLength, clipSkip, dropT5,
                    imagesPerPrompt, seed, initialLatents, initImage, strength, encoderNoise, previewEvery, loras,
                    mask, keepUnmasked, noiseSlice,
                    new SkipLayerGuidance(skipLayers, skipLayerScale, skipLayerStart, skipLayerStop));
        }
    }
}
