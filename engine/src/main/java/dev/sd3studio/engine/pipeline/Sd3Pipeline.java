package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.LoraReport;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.api.MemoryMode;
import dev.sd3studio.engine.api.NoiseSlice;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.api.SkipLayerGuidance;
import dev.sd3studio.engine.api.StepEvent;
import dev.sd3studio.engine.diffusion.FlowMatchEulerScheduler;
import dev.sd3studio.engine.diffusion.FlowMatchEulerScheduler.Schedule;
import dev.sd3studio.engine.diffusion.Sd3Transformer;
import dev.sd3studio.engine.diffusion.TorchCpuGenerator;
import dev.sd3studio.engine.lora.LoraSelection;
import dev.sd3studio.engine.image.LanczosResize;
import dev.sd3studio.engine.inpaint.InpaintMask;
import dev.sd3studio.engine.inpaint.MaskBlend;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.model.ModelFolder;
import dev.sd3studio.engine.model.ModelSource;
import dev.sd3studio.engine.graph.CheckpointModel;
import dev.sd3studio.engine.model.OnnxSignature;
import dev.sd3studio.engine.model.SchedulerConfig;
import dev.sd3studio.engine.model.TransformerConfig;
import dev.sd3studio.engine.model.VaeConfig;
import dev.sd3studio.engine.preview.PreviewPublisher;
import dev.sd3studio.engine.runtime.OrtRuntime;
import dev.sd3studio.engine.runtime.RunClock;
import dev.sd3studio.engine.runtime.SkipLayerGraph;
import dev.sd3studio.engine.text.ClipTextEncoder;
import dev.sd3studio.engine.text.PromptTokenizer;
import dev.sd3studio.engine.text.T5TextEncoder;
import dev.sd3studio.engine.text.TokenizedText;
import dev.sd3studio.engine.vae.DecodedImagePolicy;
import dev.sd3studio.engine.vae.ImageTensors;
import dev.sd3studio.engine.vae.VaeDecoder;
import dev.sd3studio.engine.vae.VaeEncoder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The SD3 / SD3.5 pipeline, stage by stage as the reference: {@code validate → encodePrompt →
 * prepareLatents → schedule → denoise → decode} (sd3-pipeline.md §1–§6). One generation at a time.
 */
public final class Sd3Pipeline implements Sd3Generator {
    static final int CLIP_LENGTH = 77;
    static final int MAX_SEQUENCE_LENGTH = 512;

    private final ModelSource folder;
    private final OrtRuntime runtime;
    private final EngineOptions options;
    private final ComponentSessions sessions;
    private final PromptTokenizer clipLTokenizer;
    private final PromptTokenizer clipGTokenizer;
    private final PromptTokenizer t5Tokenizer;
    private final TransformerConfig transformerConfig;
    private final VaeConfig vaeConfig;
    private final SchedulerConfig schedulerConfig;
    private final PreviewPublisher previews;
    private final List<String> warnings = new ArrayList<>();
    private final EmbeddingCache embeddingCache = new EmbeddingCache();
    private final LoraBinding loras;
    private final Lifetime lifetime = new Lifetime();
    /** See {@link #transformerBlocks()}; -1 until known. */
    private volatile int transformerBlocks = -1;
    /** The token of the generation in progress, so that close() can stop it instead of waiting it out. */
    private volatile CancelToken running;

    private Sd3Pipeline(ModelSource folder, EngineOptions options, Closer closer) throws EngineException {
        this.folder = folder;
        this.options = options;
        // Without an explicit thread count, every component shares ORT's process-wide pool.
        this.runtime = new OrtRuntime(options.device(), Math.max(0, options.threads()), options.weights(), null);
        folder.require(Component.TRANSFORMER, false);
        folder.require(Component.TEXT_ENCODER, false);
        folder.require(Component.TEXT_ENCODER_2, false);
        folder.require(Component.VAE_DECODER, false);
        this.transformerConfig = folder.transformerConfig();
        this.vaeConfig = folder.vaeConfig();
        this.schedulerConfig = folder.schedulerConfig();
        this.clipLTokenizer = closer.add(PromptTokenizer.open("CLIP-L tokenizer", folder.tokenizerDir(1)));
        this.clipGTokenizer = closer.add(PromptTokenizer.open("CLIP-G tokenizer", folder.tokenizerDir(2)));
        this.t5Tokenizer = folder.has(Component.TEXT_ENCODER_3)
                ? closer.add(PromptTokenizer.open("T5 tokenizer", folder.tokenizerDir(3))) : null;
        if (t5Tokenizer == null) {
            warnings.add("this model has no T5 encoder (text_encoder_3): prompts condition through CLIP only.");
        }
        this.sessions = closer.add(new ComponentSessions(folder, runtime, options.memoryMode()));
        this.loras = closer.add(new LoraBinding(folder));
        sessions.useLoras(loras);
        // One thread for previews: they run beside the denoising loop and must not take its cores.
        this.previews = closer.add(PreviewPublisher.create(folder.previewSearchFolder(), options.previewModel(),
                new OrtRuntime(options.device(), 1), vaeConfig));
        previews.warning().ifPresent(warnings::add);
    }

    /** Opens a model folder; nothing stays open when this fails. */
    public static Sd3Pipeline open(java.nio.file.Path modelDir, EngineOptions options) throws EngineException {
        ModelSource folder = CheckpointModel.isCheckpoint(modelDir)
                ? CheckpointModel.open(modelDir, options.checkpoint()) : ModelFolder.detect(modelDir);
        try (Closer closer = new Closer()) {
            Sd3Pipeline pipeline = new Sd3Pipeline(folder, options, closer);
            closer.release();
            return pipeline;
        }
    }

    /** The components open now, the preview decoder as {@code null}: what the offload tests assert stage by stage. */
    java.util.Set<Component> openSessions() {
        java.util.Set<Component> open = new java.util.HashSet<>(sessions.openComponents());
        if (previews.isOpen()) {
            open.add(null);
        }
        return open;
    }

    public ModelSource folder() {
        return folder;
    }

    @Override
    public ModelInfo info() {
        int blocks;
        try {
            blocks = transformerBlocks();
        } catch (EngineException e) {
            blocks = 0; // an unreadable transformer fails with its own message when a generation loads it
        }
        return new ModelInfo(folder.displayName(), defaultWidth(), defaultHeight(), sizeMultiple(),
                t5Tokenizer != null, folder.has(Component.VAE_ENCODER),
                previews.method(), List.copyOf(warnings), blocks, transformerConfig.recommendedSkipLayers());
    }

    /**
     * The transformer's blocks: from its config, else counted in the graph (read once, weights skipped),
     * so that a skip layer the model does not have is refused before anything loads.
     */
    private int transformerBlocks() throws EngineException {
        if (transformerBlocks < 0) {
            transformerBlocks = transformerConfig.numLayers() > 0 ? transformerConfig.numLayers()
                    : SkipLayerGraph.blockCount(folder.require(Component.TRANSFORMER, false).source());
        }
        return transformerBlocks;
    }

    @Override
    public Optional<String> deviceFallbackReason() {
        return runtime.fallbackReason();
    }

    private int sizeMultiple() {
        return vaeConfig.scaleFactor() * transformerConfig.patchSize();
    }

    private int defaultWidth() {
        return transformerConfig.sampleSize() * vaeConfig.scaleFactor();
    }

    private int defaultHeight() {
        return defaultWidth();
    }

    @Override
    public Map<String, TokenCount> tokenize(String prompt, int maxSequenceLength) throws EngineException {
        Map<String, TokenCount> out = new LinkedHashMap<>();
        for (String tokenizer : List.of("tokenizer", "tokenizer_2", "tokenizer_3")) {
            TokenCount count = tokenize(tokenizer, prompt, maxSequenceLength);
            if (count != null) {
                out.put(tokenizer, count);
            }
        }
        return out;
    }

    /** Every tokenize goes through here: the lease is what keeps close() from freeing a tokenizer mid-encode. */
    @Override
    public TokenCount tokenize(String tokenizer, String prompt, int maxSequenceLength) throws EngineException {
        checkSequenceLength(maxSequenceLength);
        // Tokenizing may run beside a generation (both hold leases); close() waits for both.
        try (Lifetime.Lease ignored = lifetime.lease()) {
            return switch (tokenizer) {
                case "tokenizer" -> count(clipLTokenizer.tokenize(prompt, CLIP_LENGTH), CLIP_LENGTH);
                case "tokenizer_2" -> count(clipGTokenizer.tokenize(prompt, CLIP_LENGTH), CLIP_LENGTH);
                case "tokenizer_3" -> t5Tokenizer == null ? null
                        : count(t5Tokenizer.tokenize(prompt, maxSequenceLength), maxSequenceLength);
                default -> null;
            };
        }
    }

    private static TokenCount count(TokenizedText t, int limit) {
        return new TokenCount(t.ids(), t.attentionMask(), t.untruncatedLength(), limit);
    }

    @Override
    public synchronized GenerationResult generate(GenerationRequest request, ProgressListener listener,
                                                  CancelToken cancel) throws EngineException {
        try (Lifetime.Lease ignored = lifetime.lease()) {
            running = cancel;
            try (RunScope scope = new RunScope()) {
                return generate(request, listener, cancel, scope);
            } finally {
                running = null;
                if (options.memoryMode() == MemoryMode.OFFLOAD) {
                    sessions.close();
                    previews.release();
                }
            }
        }
    }

    private GenerationResult generate(GenerationRequest request, ProgressListener listener, CancelToken cancel,
                                      RunScope scope) throws EngineException {
        Timings timings = new Timings();
        List<String> runWarnings = new ArrayList<>();
        ProgressListener l = new WarningCollector(listener, runWarnings);
        long start = System.nanoTime();
        long ortStart = RunClock.totalNanos();
        try {
            GenerationRequest resolved = validate(request);
            runtime.fallbackReason().ifPresent(l::warning);
            if (resolved.skipLayers().isOn() && !resolved.usesGuidance()) {
                l.warning("skip-layer guidance works on top of classifier-free guidance, which is off at guidance "
                        + resolved.guidance() + "; it was not applied (raise the guidance above 1 to use it).");
            }
            applyLoras(resolved, l);
            PromptEmbeddings embeddings = encodePrompt(resolved, l, cancel, timings);
            int steps = resolved.steps();
            Schedule schedule = schedule(resolved);
            l.tensor("sigmas", new FloatTensor(new long[] {schedule.sigmas().length}, schedule.sigmas()));
            l.tensor("scheduler_timesteps", new FloatTensor(new long[] {steps}, schedule.timesteps()));
            Prepared prepared = prepareLatents(resolved, schedule, l, cancel, timings);
            l.tensor("timesteps", new FloatTensor(new long[] {prepared.schedule.steps()}, prepared.schedule.timesteps()));
            FloatTensor latents = denoise(resolved, embeddings, prepared, l, cancel, timings, scope);
            FloatTensor images = decode(latents, l, cancel, timings);
            if (prepared.mask() != null && resolved.keepUnmasked()) {
                images = prepared.mask().keepOriginalOutside(images,
                        LanczosResize.resize(resolved.initImage(), resolved.width(), resolved.height()));
            }
            timings.add("ort_run", RunClock.totalNanos() - ortStart);
            timings.add("total", System.nanoTime() - start);
            runtime.fallbackReason().ifPresent(l::warning);
            List<String> seen;
            synchronized (runWarnings) {
                seen = List.copyOf(runWarnings);
            }
            return new GenerationResult(images, resolved, seen, timings.snapshot());
        } catch (OutOfMemoryError e) {
            throw new EngineException(Kind.OUT_OF_MEMORY, "Java ran out of memory; use a smaller size or batch,"
                    + " or start the app with a larger -Xmx.", e);
        }
    }

    @Override
    public LoraReport loraReport(List<LoraSpec> list) throws EngineException {
        return loras.inspect(list);
    }

    /** Matches the request's LoRAs (errors before any work); sessions whose LoRAs changed rebuild when used. */
    private void applyLoras(GenerationRequest r, ProgressListener l) throws EngineException {
        LoraSelection selection = loras.select(r.loras(), r.dropT5() || t5Tokenizer == null);
        selection.report().files().forEach(f -> l.stage("LoRA " + f.summary()));
        selection.warnings().forEach(l::warning);
    }

    // ---- validate -------------------------------------------------------------------------------

    /** Checks the request against the model and fills every default (size, seed). */
    GenerationRequest validate(GenerationRequest r) throws EngineException {
        if (r.prompts().isEmpty()) {
            throw EngineException.invalid("no prompt given: pass at least one prompt (it may be empty).");
        }
        if (r.steps() < 1) {
            throw EngineException.invalid("steps must be at least 1 (got " + r.steps() + ").");
        }
        RequestBounds.check(r);
        if (!Double.isFinite(r.guidance()) || r.guidance() < 0) {
            throw EngineException.invalid("guidance must be a number of 0 or more (got " + r.guidance() + ").");
        }
        if (r.shift() != null && (!Double.isFinite(r.shift()) || r.shift() <= 0)) {
            throw EngineException.invalid("shift must be greater than 0 (got " + r.shift() + ").");
        }
        checkSequenceLength(r.maxSequenceLength());
        if (r.clipSkip() != null && r.clipSkip() < 0) {
            throw EngineException.invalid("clip skip must be 0 or more (got " + r.clipSkip() + ").");
        }
        if (r.imagesPerPrompt() < 1) {
            throw EngineException.invalid("images per prompt must be at least 1 (got " + r.imagesPerPrompt() + ").");
        }
        if (r.mask() != null && r.initImage() == null) {
            throw EngineException.invalid("a mask needs the start image it belongs to; give the picture to repaint"
                    + " as well (--init-image, or drop it on the canvas).");
        }
        if (r.noiseSlice() != null && r.batchSize() != 1) {
            throw EngineException.invalid("a batch index regenerates one picture; give one prompt and one image per prompt"
                    + " (got a batch of " + r.batchSize() + ").");
        }
        if (r.isImageToImage() && !(r.strength() >= 0 && r.strength() <= 1)) {
            throw EngineException.invalid("strength must be between 0 and 1 (got " + r.strength() + ").");
        }
        checkSkipLayers(r.skipLayers());
        int[] size = resolveSize(r);
        checkSize("width", size[0]);
        checkSize("height", size[1]);
        PromptSet.positive(r);
        PromptSet.negative(r);
        Long seed = r.seed();
        if (seed == null && (r.initialLatents() == null || (r.isImageToImage() && r.encoderNoise() == null))) {
            seed = ThreadLocalRandom.current().nextLong(0, 1L << 32);
        }
        GenerationRequest.Builder b = r.toBuilder().optSize(size[0], size[1]).optSeed(seed);
        if (r.isInpainting()) {
            // Resolved = the binarized mask at the output size: what ran, and it prepares to itself again.
            b.optMask(InpaintMask.checked(r.mask(), r.initImage(), size[0], size[1], vaeConfig.scaleFactor()).toImage());
        }
        GenerationRequest resolved = b.build();
        long[] shape = latentShape(resolved);
        if (r.initialLatents() != null) {
            checkLatents("latents", r.initialLatents(), shape);
        }
        if (r.isImageToImage() && r.encoderNoise() != null) {
            long[] one = shape.clone();
            one[0] = 1;
            checkLatents("encoder noise", r.encoderNoise(), one);
        }
        if (r.isImageToImage()) {
            if (!folder.has(Component.VAE_ENCODER)) {
                folder.require(Component.VAE_ENCODER, false); // says what is missing and what to do
            }
            int run = r.steps() - FlowMatchEulerScheduler.startStep(r.steps(), r.strength());
            if (run < 1) {
                // Any strength above 0 runs at least the last step (t_start truncates), so only 0
                // and values too small to move N·strength get here; 1/strength is no useful hint.
                throw EngineException.invalid("strength " + r.strength() + " runs no denoising step ("
                        + r.steps() + " steps × strength " + r.strength() + " rounds to none) and would return"
                        + " the picture unchanged; use a strength above 0 (0.6 is the usual).");
            }
        }
        return resolved;
    }

    private void checkSkipLayers(SkipLayerGuidance slg) throws EngineException {
        if (!slg.isOn()) {
            return;
        }
        if (!Double.isFinite(slg.scale())) {
            throw EngineException.invalid("skip-layer scale must be a finite number (got " + slg.scale() + ").");
        }
        if (!(slg.start() >= 0 && slg.start() <= slg.stop() && slg.stop() <= 1)) {
            throw EngineException.invalid("skip-layer start and stop are fractions of the steps, 0 ≤ start ≤ stop ≤ 1"
                    + " (got start " + slg.start() + ", stop " + slg.stop() + "); 0.01 and 0.2 are the usual.");
        }
        int blocks = transformerBlocks();
        if (blocks == 0) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, "skip-layer guidance cannot tell this transformer's"
                    + " blocks: its config.json has no num_layers and no graph node is named transformer_blocks.N;"
                    + " turn skip-layer guidance off for this model.");
        }
        for (int layer : slg.layers()) {
            if (layer < 0 || layer >= blocks) {
                throw EngineException.invalid("skip layer " + layer + " does not exist: this model's transformer has "
                        + blocks + " blocks, numbered 0 to " + (blocks - 1) + "; choose skip layers in that range.");
            }
        }
    }

    private static void checkSequenceLength(int n) throws EngineException {
        if (n < 1 || n > MAX_SEQUENCE_LENGTH) {
            throw EngineException.invalid("max sequence length must be between 1 and " + MAX_SEQUENCE_LENGTH
                    + " (got " + n + ").");
        }
    }

    private int[] resolveSize(GenerationRequest r) {
        if (r.width() != null && r.height() != null) {
            return new int[] {r.width(), r.height()};
        }
        if (r.isImageToImage() && r.width() == null && r.height() == null) {
            int maxPatches = transformerConfig.posEmbedMaxSize();
            return SizePolicy.forImage(r.initImage().width(), r.initImage().height(),
                    defaultWidth(), defaultHeight(), sizeMultiple(),
                    maxPatches > 0 ? maxPatches * sizeMultiple() : Integer.MAX_VALUE);
        }
        return new int[] {r.width() != null ? r.width() : defaultWidth(),
                r.height() != null ? r.height() : defaultHeight()};
    }

    private void checkSize(String what, int value) throws EngineException {
        int maxPatches = transformerConfig.posEmbedMaxSize();
        RequestBounds.checkSize(what, value, sizeMultiple(), maxPatches > 0 ? maxPatches * sizeMultiple() : 0);
    }

    private long[] latentShape(GenerationRequest r) {
        int channels = transformerConfig.inChannels() > 0 ? transformerConfig.inChannels() : vaeConfig.latentChannels();
        return new long[] {r.batchSize(), channels, r.height() / vaeConfig.scaleFactor(),
                r.width() / vaeConfig.scaleFactor()};
    }

    private static void checkLatents(String what, FloatTensor t, long[] expected) throws EngineException {
        if (!java.util.Arrays.equals(t.shape(), expected)) {
            throw EngineException.invalid(what + " have shape " + java.util.Arrays.toString(t.shape())
                    + " but this request needs " + java.util.Arrays.toString(expected)
                    + " (batch, latent channels, height/8, width/8); check the .npy file against the size and batch.");
        }
        if (t.firstNonFinite() >= 0) {
            throw EngineException.invalid(what + " contain NaN or infinite values; supply finite noise.");
        }
    }

    // ---- encodePrompt ---------------------------------------------------------------------------

    private PromptEmbeddings encodePrompt(GenerationRequest r, ProgressListener l, CancelToken cancel,
                                          Timings timings) throws EngineException {
        boolean dropT5 = r.dropT5() || t5Tokenizer == null;
        EmbeddingCache.Key key = EmbeddingCache.key(r, dropT5, loras.textEncoderFingerprints());
        EmbeddingCache.Entry cached = options.memoryMode() == MemoryMode.RESIDENT ? embeddingCache.get(key) : null;
        if (cached != null) {
            l.stage("encode prompt (cached)");
            cached.replay(l);
            return cached.embeddings();
        }
        long t0 = System.nanoTime();
        EmbeddingCache.Recording rec = new EmbeddingCache.Recording(l);
        rec.stage("encode prompt");
        List<PromptTokens> sets = new ArrayList<>();
        sets.add(tokenize(PromptSet.positive(r), r, r.clipSkip() == null ? 0 : r.clipSkip(), dropT5, "", rec));
        if (r.usesGuidance()) {
            // The reference encodes negative prompts without clip skip.
            sets.add(tokenize(PromptSet.negative(r), r, 0, dropT5, "negative_", rec));
        }
        List<PromptEmbeddings> encoded = encode(sets, r, dropT5, rec, cancel, timings);
        PromptEmbeddings positive = encoded.get(0).repeatEachItem(r.imagesPerPrompt());
        emit(rec, "", positive);
        PromptEmbeddings result = positive;
        if (r.usesGuidance()) {
            PromptEmbeddings negative = encoded.get(1).repeatEachItem(r.imagesPerPrompt());
            emit(rec, "negative_", negative);
            result = PromptEmbeddings.forGuidance(negative, positive);
        }
        timings.add("encode", System.nanoTime() - t0);
        if (options.memoryMode() == MemoryMode.RESIDENT) {
            embeddingCache.put(key, rec.finish(result));
        }
        return result;
    }

    private static void emit(ProgressListener l, String prefix, PromptEmbeddings e) {
        l.tensor(prefix + "prompt_embeds", e.promptEmbeds());
        l.tensor(prefix + "pooled_prompt_embeds", e.pooledPromptEmbeds());
    }

    /** One prompt set's token ids for each encoder ({@code t5} null when T5 is dropped) and its clip skip. */
    private record PromptTokens(long[][] clipL, long[][] clipG, long[][] t5, int clipSkip) {
    }

    private PromptTokens tokenize(PromptSet prompts, GenerationRequest r, int clipSkip, boolean dropT5,
                                  String dumpPrefix, ProgressListener l) {
        long[][] idsL = tokenizeAll(clipLTokenizer, prompts.clipL(), CLIP_LENGTH, "CLIP-L", l);
        long[][] idsG = tokenizeAll(clipGTokenizer, prompts.clipG(), CLIP_LENGTH, "CLIP-G", l);
        l.ids(dumpPrefix + "clip_l_input_ids", idsL);
        l.ids(dumpPrefix + "clip_g_input_ids", idsG);
        long[][] ids3 = null;
        if (!dropT5) {
            ids3 = tokenizeAll(t5Tokenizer, prompts.t5(), r.maxSequenceLength(), "T5", l);
            l.ids(dumpPrefix + "t5_input_ids", ids3);
        }
        return new PromptTokens(idsL, idsG, ids3, clipSkip);
    }

    /**
     * Runs each text encoder over every prompt set before the next one loads, so offload holds one
     * encoder at a time (the largest, T5-XXL, alone) instead of all three.
     */
    private List<PromptEmbeddings> encode(List<PromptTokens> sets, GenerationRequest r, boolean dropT5,
                                          ProgressListener l, CancelToken cancel, Timings timings)
            throws EngineException {
        List<ClipTextEncoder.Output> outL = new ArrayList<>();
        ClipTextEncoder clipL = sessions.get(Component.TEXT_ENCODER, ClipTextEncoder::new, l, timings);
        clipL.hiddenStateWarning().ifPresent(l::warning);
        for (PromptTokens t : sets) {
            outL.add(clipL.encode(t.clipL(), t.clipSkip(), cancel));
        }
        sessions.release(Component.TEXT_ENCODER);
        List<ClipTextEncoder.Output> outG = new ArrayList<>();
        ClipTextEncoder clipG = sessions.get(Component.TEXT_ENCODER_2, ClipTextEncoder::new, l, timings);
        clipG.hiddenStateWarning().ifPresent(l::warning);
        for (PromptTokens t : sets) {
            outG.add(clipG.encode(t.clipG(), t.clipSkip(), cancel));
        }
        sessions.release(Component.TEXT_ENCODER_2);
        List<FloatTensor> t5 = new ArrayList<>();
        if (dropT5) {
            for (PromptTokens t : sets) {
                t5.add(FloatTensor.zeros(t.clipL().length, r.maxSequenceLength(), jointAttentionDim()));
            }
        } else {
            T5TextEncoder encoder = sessions.get(Component.TEXT_ENCODER_3, T5TextEncoder::new, l, timings);
            for (PromptTokens t : sets) {
                FloatTensor out = encoder.encode(t.t5(), cancel);
                requireFinite(out, "the T5 encoder's output",
                        "a known fp16 overflow of T5-XXL; use an fp32 T5 export or drop T5");
                t5.add(out);
            }
            sessions.release(Component.TEXT_ENCODER_3);
        }
        List<PromptEmbeddings> result = new ArrayList<>();
        for (int i = 0; i < sets.size(); i++) {
            PromptEmbeddings e = new PromptEmbeddings(
                    EmbeddingAssembly.promptEmbeds(outL.get(i).hidden(), outG.get(i).hidden(), t5.get(i)),
                    EmbeddingAssembly.pooled(outL.get(i).pooled(), outG.get(i).pooled()));
            requireFinite(e.promptEmbeds(), "the prompt embeddings", "the text encoder exports may be broken");
            requireFinite(e.pooledPromptEmbeds(), "the pooled prompt embeddings", "the text encoder exports may be broken");
            result.add(e);
        }
        return result;
    }

    private long jointAttentionDim() throws EngineException {
        if (transformerConfig.jointAttentionDim() > 0) {
            return transformerConfig.jointAttentionDim();
        }
        // Read from the graph's declared input, not from a session: loading the MMDiT here would put
        // it beside the text encoders in offload mode.
        OnnxSignature.Port text = OnnxSignature.read(folder.require(Component.TRANSFORMER, false).source())
                .input("encoder_hidden_states");
        long declared = text == null ? -1 : text.dim(2);
        if (declared > 0) {
            return declared;
        }
        throw new EngineException(Kind.INCOMPATIBLE_MODEL, "cannot tell the transformer's text width: "
                + folder.root() + "'s transformer config has no joint_attention_dim; add it to run without T5.");
    }

    private static long[][] tokenizeAll(PromptTokenizer tokenizer, List<String> texts, int length, String name,
                                        ProgressListener l) {
        long[][] ids = new long[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            TokenizedText t = tokenizer.tokenize(texts.get(i), length);
            if (t.truncated()) {
                l.warning("prompt " + (i + 1) + " has " + t.untruncatedLength() + " " + name + " tokens; only the first "
                        + length + " are used, the rest is cut.");
            }
            ids[i] = t.ids();
        }
        return ids;
    }

    private static void requireFinite(FloatTensor t, String what, String hint) throws EngineException {
        if (t.firstNonFinite() >= 0) {
            throw new EngineException(Kind.NUMERIC_OVERFLOW, what + " contain NaN or infinite values (" + hint + ").");
        }
    }

    // ---- schedule and latents -------------------------------------------------------------------

    private Schedule schedule(GenerationRequest r) {
        SchedulerConfig config = r.shift() != null ? schedulerConfig.withShift(r.shift()) : schedulerConfig;
        int p = transformerConfig.patchSize();
        int s = vaeConfig.scaleFactor();
        int imageSeqLen = (r.height() / s / p) * (r.width() / s / p);
        return new FlowMatchEulerScheduler(config).schedule(r.steps(), imageSeqLen);
    }

    /** Start latents and the part of the schedule that runs; inpainting adds its mask and blend. */
    private record Prepared(FloatTensor latents, Schedule schedule, InpaintMask mask, MaskBlend blend) {
        Prepared(FloatTensor latents, Schedule schedule) {
            this(latents, schedule, null, null);
        }
    }

    private Prepared prepareLatents(GenerationRequest r, Schedule schedule, ProgressListener l, CancelToken cancel,
                                    Timings timings) throws EngineException {
        long[] shape = latentShape(r);
        TorchCpuGenerator generator = r.seed() == null ? null : new TorchCpuGenerator(r.seed());
        if (!r.isImageToImage()) {
            FloatTensor noise = r.initialLatents() != null ? r.initialLatents().copy() : draw(generator, shape, r);
            l.tensor("noise_latents", noise);
            return new Prepared(noise, schedule);
        }
        long t0 = System.nanoTime();
        l.stage("encode image");
        int startStep = FlowMatchEulerScheduler.startStep(r.steps(), r.strength());
        FloatTensor image = ImageTensors.toEncoderInput(r.initImage(), r.width(), r.height());
        VaeEncoder encoder = sessions.get(Component.VAE_ENCODER, VaeEncoder::new, l, timings);
        FloatTensor encoded = encoder.encode(image, cancel);
        sessions.release(Component.VAE_ENCODER);
        // named here, or the NaN would surface after step 1 and be blamed on the transformer
        requireFinite(encoded, "the VAE encoder's output", "the VAE encoder overflowed; use an fp32 VAE export");
        long[] one = shape.clone();
        one[0] = 1;
        // The reference draws ε first and the noise second; keep that order even when ε is supplied.
        FloatTensor drawn = generator == null ? null : generator.randn(one);
        FloatTensor epsilon = r.encoderNoise() != null ? r.encoderNoise() : drawn;
        FloatTensor imageLatents = ImageToImage.imageLatents(encoded, encoder.givesParameters(), epsilon, vaeConfig);
        FloatTensor noise = r.initialLatents() != null ? r.initialLatents().copy() : draw(generator, shape, r);
        float sigma = schedule.sigmas()[startStep];
        FloatTensor start = ImageToImage.startLatents(imageLatents, noise, sigma);
        l.tensor("image_latents", imageLatents);
        l.tensor("initial_latents", start);
        timings.add("encode_image", System.nanoTime() - t0);
        if (!r.isInpainting()) {
            return new Prepared(start, schedule.from(startStep));
        }
        // The start latents are not masked: the first transformer call sees them everywhere.
        InpaintMask mask = InpaintMask.prepare(r.mask(), r.width(), r.height(), vaeConfig.scaleFactor());
        l.tensor("noise", noise);
        l.tensor("mask_preprocessed", mask.pixels());
        l.tensor("mask_latents", mask.latents());
        Schedule run = schedule.from(startStep);
        return new Prepared(start, run, mask, new MaskBlend(imageLatents, noise, mask.latents(), run.sigmas()));
    }

    /** The batch's noise in one draw; for a {@link NoiseSlice}, the original batch's draw and its image k. */
    private static FloatTensor draw(TorchCpuGenerator generator, long[] shape, GenerationRequest r) {
        NoiseSlice slice = r.noiseSlice();
        if (slice == null) {
            return generator.randn(shape);
        }
        long[] whole = shape.clone();
        whole[0] = slice.batchSize();
        return generator.randn(whole).slice(slice.index(), slice.index() + 1);
    }

    // ---- denoise ----------------------------------------------------------------------------------

    private FloatTensor denoise(GenerationRequest r, PromptEmbeddings embeddings, Prepared prepared,
                                ProgressListener l, CancelToken cancel, Timings timings, RunScope scope)
            throws EngineException {
        Schedule schedule = prepared.schedule();
        boolean guidance = r.usesGuidance();
        // Skip-layer guidance exists only with CFG, as in the reference; the rewired graph only while it runs.
        SkipLayerGuidance slg = guidance ? r.skipLayers() : SkipLayerGuidance.OFF;
        boolean slgRuns = slg.extraPasses(schedule.steps()) > 0;
        sessions.useSkippableTransformer(slgRuns);
        Sd3Transformer transformer = sessions.get(Component.TRANSFORMER, Sd3Transformer::new, l, timings);
        l.stage("denoise");
        FloatTensor latents = prepared.latents();
        int batch = (int) latents.dim(0);
        float g = (float) r.guidance();
        long denoiseStart = System.nanoTime();
        PreviewPublisher.Session preview = scope.own(previews.start(r.previewEvery(), l));
        // The text embeddings, pooled vector and latent buffer are built once for all steps.
        Sd3Transformer.Conditioned conditioned = scope.own(transformer.condition(embeddings.promptEmbeds(),
                embeddings.pooledPromptEmbeds(), latents.shape(), guidance ? 2 : 1));
        // The extra pass runs on the positive prompts alone (the second half of the CFG batch).
        Sd3Transformer.Conditioned bypassing = !slgRuns ? null : scope.own(transformer.condition(
                embeddings.promptEmbeds().slice(batch, 2 * batch), embeddings.pooledPromptEmbeds().slice(batch, 2 * batch),
                latents.shape(), 1, slg.layers()));
        float[] timestep = new float[guidance ? 2 * batch : batch];
        float[] bypassTimestep = new float[batch];
        try {
            for (int i = 0; i < schedule.steps(); i++) {
                cancel.throwIfCancelled();
                long t0 = System.nanoTime();
                java.util.Arrays.fill(timestep, schedule.timesteps()[i]);
                FloatTensor prediction = conditioned.predict(latents, timestep, cancel);
                FloatTensor velocity = guidance ? Guidance.combine(prediction, g) : prediction;
                if (bypassing != null && slg.coversStep(i, schedule.steps())) {
                    java.util.Arrays.fill(bypassTimestep, schedule.timesteps()[i]);
                    FloatTensor skipped = bypassing.predict(latents, bypassTimestep, cancel);
                    velocity = Guidance.skipLayers(velocity, prediction, skipped, (float) slg.scale());
                }
                FloatTensor denoised = FlowMatchEulerScheduler.denoised(latents, velocity, schedule.sigmas()[i]);
                FlowMatchEulerScheduler.step(latents, velocity, schedule, i);
                if (prepared.blend() != null) {
                    l.tensor("scheduler_step_out_step" + (i + 1), latents);
                    l.tensor("init_latents_proper_step" + (i + 1), prepared.blend().apply(latents, i));
                    denoised = prepared.blend().previewOf(denoised);
                }
                requireFinite(latents, "the latents after step " + (i + 1),
                        "the transformer overflowed; an fp32 export or a lower guidance may help");
                timings.step(System.nanoTime() - t0);
                l.tensor("latents_step" + (i + 1), latents);
                l.step(new StepEvent(i + 1, schedule.steps(), schedule.timesteps()[i],
                        Duration.ofNanos(System.nanoTime() - denoiseStart), latents.copy(), denoised));
                preview.offer(i + 1, schedule.steps(), denoised);
            }
            preview.finish();
        } finally {
            preview.close();
            conditioned.close();
            if (bypassing != null) {
                bypassing.close();
            }
            timings.previews(preview.renderMillis());
        }
        sessions.release(Component.TRANSFORMER);
        if (options.memoryMode() == MemoryMode.OFFLOAD) {
            previews.release();
        }
        timings.add("denoise", System.nanoTime() - denoiseStart);
        return latents;
    }

    // ---- decode -----------------------------------------------------------------------------------

    private FloatTensor decode(FloatTensor latents, ProgressListener l, CancelToken cancel, Timings timings)
            throws EngineException {
        cancel.throwIfCancelled();
        l.tensor("latents_final", latents);
        VaeDecoder decoder = sessions.get(Component.VAE_DECODER, VaeDecoder::new, l, timings);
        l.stage("decode");
        long t0 = System.nanoTime();
        FloatTensor vaeInput = ImageToImage.toVaeSpace(latents, vaeConfig);
        l.tensor("vae_decoder_input", vaeInput);
        List<FloatTensor> images = new ArrayList<>();
        // One image at a time bounds the decoder's activation memory for large batches.
        for (int b = 0; b < vaeInput.dim(0); b++) {
            FloatTensor decoded = decoder.decode(vaeInput.slice(b, b + 1), cancel);
            DecodedImagePolicy.check(decoded, vaeInput.dim(0) > 1 ? b : -1);
            images.add(ImageTensors.toImages(decoded));
        }
        sessions.release(Component.VAE_DECODER);
        FloatTensor out = FloatTensor.concatBatch(images.toArray(FloatTensor[]::new));
        timings.add("decode", System.nanoTime() - t0);
        return out;
    }

    /**
     * Stops the generation in progress (through its token), waits until it and every tokenize call
     * have ended, then frees the sessions and tokenizers. Calls that come later fail with a
     * "model was closed" error instead of reaching a freed handle.
     */
    @Override
    public void close() {
        CancelToken current = running;
        if (current != null) {
            current.cancel();
        }
        lifetime.close(() -> {
            sessions.close();
            previews.close();
            loras.close();
            clipLTokenizer.close();
            clipGTokenizer.close();
            if (t5Tokenizer != null) {
                t5Tokenizer.close();
            }
        });
    }

    /** Collects warnings for the result while passing every event on. */
    private static final class WarningCollector extends ForwardingListener {
        private final List<String> warnings;

        WarningCollector(ProgressListener delegate, List<String> warnings) {
            super(delegate);
            this.warnings = warnings;
        }

        /** Previews report failures from their own thread, so this is called from two threads. */
        @Override
        public void warning(String message) {
            boolean first;
            synchronized (warnings) {
                first = !warnings.contains(message);
                if (first) {
                    warnings.add(message);
                }
            }
            if (first) {
                super.warning(message);
            }
        }
    }
}
