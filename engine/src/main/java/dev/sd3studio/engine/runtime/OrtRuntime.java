package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.format.ProtoFields;
import dev.sd3studio.engine.api.WeightPrecision;
import dev.sd3studio.engine.lora.MergedWeights;
import dev.sd3studio.engine.runtime.quant.QuantCache;
import dev.sd3studio.engine.runtime.quant.QuantSettings;
import dev.sd3studio.engine.runtime.quant.QuantizedGraph;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Creates ONNX Runtime sessions on the chosen device. CUDA is tried once per runtime; when it
 * cannot work the runtime settles on the CPU and keeps the one-line reason, naming the library
 * that failed to load, for the UI and the command line.
 */
public final class OrtRuntime {
    /** Where users may put the CUDA 12 / cuDNN 9 libraries when they are not on the system path. */
    public static final String CUDA_DIR_PROPERTY = "sd3studio.cuda.dir";

    private final Device requested;
    /** Per-session intra-op threads, or 0 for the process-wide pool. */
    private final int threads;
    private final AtomicReference<Device> active = new AtomicReference<>();
    private volatile String fallbackReason;
    /** The precision of the large linear layers of {@link #QUANTIZED_COMPONENTS}, and where quantized ones are kept. */
    private final WeightPrecision weights;
    private final QuantCache quantCache;
    private volatile String quantizationWarning;

    /**
     * The components whose linear layers are quantized: the MMDiT and T5 hold nearly all the weights;
     * the CLIP encoders and the VAE are small and sensitive, and stay as stored.
     */
    static final Set<String> QUANTIZED_COMPONENTS = Set.of("transformer", "text_encoder_3");

    /** Sessions on {@code requested} that share the process-wide thread pool (one thread per physical core). */
    public OrtRuntime(Device requested) {
        this(requested, 0);
    }

    /**
     * @param threads intra-op threads of each session's own pool; 0 shares the process-wide pool
     *                instead (the default: one pool for all components, not one per session)
     */
    public OrtRuntime(Device requested, int threads) {
        this(requested, threads, WeightPrecision.STORED, null);
    }

    /**
     * @param weights the precision of the transformer's and T5's large linear layers
     * @param cache   where their quantized weights are kept; null: {@link QuantCache#defaultDir()}
     */
    public OrtRuntime(Device requested, int threads, WeightPrecision weights, QuantCache cache) {
        this.requested = requested;
        this.threads = Math.max(0, threads);
        this.weights = weights == null ? WeightPrecision.STORED : weights;
        this.quantCache = cache != null ? cache : this.weights == WeightPrecision.STORED ? null
                : new QuantCache(QuantCache.defaultDir());
        if (requested.kind() == Device.Kind.CUDA) {
            // Probe now, so the reason is known before the first (possibly long) model load.
            String dir = System.getProperty(CUDA_DIR_PROPERTY, System.getenv("SD3STUDIO_CUDA_DIR"));
            CudaProbe.firstMissing(dir == null ? null : Path.of(dir)).ifPresentOrElse(this::fallToCpu,
                    () -> GpuLibraries.preloadCudnnParts(dir == null ? null : Path.of(dir)));
        }
    }

    /** Sessions created and still open, process-wide: how tests prove what a step opened and released. */
    static final AtomicInteger LIVE_SESSIONS = new AtomicInteger();
    private static final AtomicLong CREATED_SESSIONS = new AtomicLong();
    /** Sessions opened from an {@link Fp16CpuGraph} rewrite (tests tell it from the fall-back by it). */
    static final AtomicLong REWRITTEN_SESSIONS = new AtomicLong();
    /** Sessions opened with quantized linear layers. */
    static final AtomicLong QUANTIZED_SESSIONS = new AtomicLong();

    public WeightPrecision weights() {
        return weights;
    }

    /** Why a component asked to be quantized was opened as stored instead, or empty. */
    public Optional<String> quantizationWarning() {
        return Optional.ofNullable(quantizationWarning);
    }

    /** Every ORT session created in this process so far. */
    public static long sessionsCreated() {
        return CREATED_SESSIONS.get();
    }

    /** ORT sessions open now, in this process. */
    public static int liveSessions() {
        return LIVE_SESSIONS.get();
    }

    public static OrtEnvironment environment() {
        return Environment.INSTANCE;
    }

    /** The process's one ORT environment, made on first use with the global thread pool. */
    private static final class Environment {
        static final OrtEnvironment INSTANCE = create();

        private static OrtEnvironment create() {
            OrtProcess.beforeLoad();
            // One intra-op pool for every session, one thread per physical core (ORT's own default
            // counts physical cores too), not spinning: sessions that take turns do not keep idle
            // pools busy-waiting beside each other.
            try (OrtEnvironment.ThreadingOptions pool = new OrtEnvironment.ThreadingOptions()) {
                pool.setGlobalIntraOpNumThreads(CpuTopology.physicalCores());
                pool.setGlobalInterOpNumThreads(1);
                pool.setGlobalSpinControl(false);
                // ORT's own log lines would reach the terminal beside our one-line error (its errors arrive as exceptions).
                OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, "sd3studio",
                        pool);
                OrtProcess.afterLoad(env);
                return env;
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime could not start: " + e.getMessage(), e);
            }
        }
    }

    public Device requested() {
        return requested;
    }

    /** The device sessions actually run on, once the first session was made. */
    public Device active() {
        Device d = active.get();
        return d == null ? requested : d;
    }

    /** Why CUDA was not used although asked for, or empty. */
    public Optional<String> fallbackReason() {
        return Optional.ofNullable(fallbackReason);
    }

    /** Adds to the options of one session (extra initializers, for instance) before it is created. */
    @FunctionalInterface
    public interface SessionCustomizer {
        SessionCustomizer NONE = options -> {
        };

        void apply(OrtSession.SessionOptions options) throws OrtException;
    }

    /** Opens a session for {@code file}; {@code component} names it in error messages. */
    public OrtSession open(String component, Path file) throws EngineException {
        return open(component, file, SessionCustomizer.NONE);
    }

    /**
     * The one place sessions are created: options chosen per component ({@link SessionProfile}),
     * then {@code extra}. {@code component} names it in error messages.
     */
    public OrtSession open(String component, Path file, SessionCustomizer extra) throws EngineException {
        SessionProfile profile = SessionProfile.of(component);
        try (OrtSession.SessionOptions options = sessionOptions(profile)) {
            extra.apply(options);
            OrtSession session = create(file, null, profile, options);
            CREATED_SESSIONS.incrementAndGet();
            LIVE_SESSIONS.incrementAndGet();
            return session;
        } catch (OrtException e) {
            throw OrtErrors.onLoad(component, file, e, active() == requested && requested.kind() == Device.Kind.CUDA);
        }
    }

    /**
     * Opens a session whose LoRA-merged weights (when not null) replace the model's own, of the graph
     * as exported or rewired so that its blocks can be bypassed ({@link SkipLayerGraph}); the returned
     * session must be closed before {@code attached}'s resources, which {@link OnnxModel} does. A graph the
     * engine built ({@link ComponentGraph#isBuilt()}) is opened as built: it was built skippable if asked.
     */
    OrtSession open(String component, ComponentGraph graph, MergedWeights merged, boolean skippableBlocks,
                    List<AutoCloseable> attached) throws EngineException {
        Path file = graph.source();
        byte[] rewired;
        try {
            rewired = graph.isBuilt() ? graph.built() : skippableBlocks ? SkipLayerGraph.rewrite(file) : null;
        } catch (EngineException e) {
            if (merged != null) {
                merged.close();
            }
            throw e;
        }
        QuantizedGraph.Rewritten quantized = null;
        if (weights != WeightPrecision.STORED && QUANTIZED_COMPONENTS.contains(component)) {
            try {
                quantized = quantize(component, file, rewired, merged);
            } catch (EngineException e) {
                if (merged != null) {
                    merged.close();
                }
                throw e;
            }
        }
        try {
            return open(component, graph, quantized == null ? rewired : quantized.model(), merged, quantized, attached);
        } catch (EngineException e) {
            if (quantized == null) {
                throw e;
            }
            quantized.weights().close();
            if (merged != null) {
                throw e; // the merged weights went with the failed session
            }
            // a quantized graph ORT refuses must not make a model fail that loads as stored
            quantizationWarning = component + " runs with stored weights: its quantized graph did not load ("
                    + e.getMessage() + ")";
            return open(component, graph, rewired, null, null, attached);
        }
    }

    /** {@code quantized} (or null): the quantized graph, whose weights this session then owns. */
    private OrtSession open(String component, ComponentGraph graph, byte[] rewired, MergedWeights merged,
                            QuantizedGraph.Rewritten quantized, List<AutoCloseable> attached) throws EngineException {
        Path file = graph.source();
        SessionProfile profile = quantized == null ? SessionProfile.of(component) : SessionProfile.of(component).quantized();
        try (OrtSession.SessionOptions options = sessionOptions(profile)) {
            MergedInitializers initializers = null;
            try {
                if (quantized != null) {
                    quantized.weights().addTo(environment(), options);
                }
                // merged weights that were quantized have left the graph
                initializers = merged == null ? null : MergedInitializers.addTo(options, merged,
                        name -> quantized != null && quantized.weights().get(name) != null);
                OrtSession session = quantized == null ? create(graph, rewired, profile, options)
                        : quantized.weights().releasePagesWhile(() -> create(graph, rewired, profile, options));
                CREATED_SESSIONS.incrementAndGet();
                LIVE_SESSIONS.incrementAndGet();
                if (initializers != null) {
                    attached.add(initializers);
                }
                if (quantized != null) {
                    attached.add(quantized.weights());
                    QUANTIZED_SESSIONS.incrementAndGet();
                }
                return session;
            } catch (OrtException | RuntimeException e) {
                if (initializers != null) {
                    initializers.close();
                }
                throw e;
            }
        } catch (OrtException e) {
            if (merged != null) {
                merged.close();
            }
            throw OrtErrors.onLoad(component, file, e, active() == requested && requested.kind() == Device.Kind.CUDA);
        }
    }

    /**
     * The component's graph ({@code rewired}, or the file as mapped) with its large linear layers quantized
     * (LoRA-merged weights first), or null when none qualifies. A built graph's weights lie beside
     * {@code file}, the weight file it names first, which also keys the cache.
     */
    private QuantizedGraph.Rewritten quantize(String component, Path file, byte[] rewired, MergedWeights merged)
            throws EngineException {
        QuantSettings settings = QuantSettings.of(weights);
        Map<String, ByteBuffer> overrides = new HashMap<>();
        if (merged != null) {
            merged.weights().forEach(w -> overrides.put(w.name(), w.data()));
        }
        java.util.function.Predicate<String> keep = component.equals("transformer") ? QuantizedGraph.FINAL_LAYER
                : name -> false;
        try (Arena arena = Arena.ofConfined()) {
            Optional<ByteBuffer> model = rewired != null ? Optional.of(ByteBuffer.wrap(rewired))
                    : ProtoFields.map(file, arena);
            if (model.isEmpty()) {
                return null; // over 2 GB without external data: ORT's own message follows
            }
            return QuantizedGraph.rewrite(model.get(), file, rewired == null, settings, keep, quantCache, overrides)
                    .orElse(null);
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.IO, "cannot quantize the weights of " + component + " ("
                    + file + ") into " + quantCache.dir() + ": " + e.getMessage()
                    + ". Free some disk space there, or choose stored weights.", e);
        } catch (IllegalArgumentException e) {
            return null; // malformed: opening the file as it is gives the user ORT's message
        }
    }

    private OrtSession create(ComponentGraph graph, byte[] rewired, SessionProfile profile,
                              OrtSession.SessionOptions options) throws OrtException {
        return graph.isBuilt() ? createBuilt(graph, rewired, options) : create(graph.source(), rewired, profile, options);
    }

    /**
     * A graph built from a checkpoint ({@code model}: as built, or quantized): its weights are read in place
     * from the user's files, and each one stored narrower than float32 is widened by a Cast right before its
     * use, so the same options as for a rewritten fp16 export keep ORT from folding those casts into float32
     * copies of every weight.
     */
    private OrtSession createBuilt(ComponentGraph graph, byte[] model, OrtSession.SessionOptions options)
            throws OrtException {
        Fp16CpuGraph.configure(options, graph.weightFolder());
        return environment().createSession(model, options);
    }

    /**
     * On the CPU an fp16 export is opened rewritten to widen each weight just before its use
     * ({@link Fp16CpuGraph}); should ORT refuse the rewrite, the file is opened as it is, so the
     * rewrite never makes a model fail that would otherwise load. {@code rewired} (or null) is the
     * file's graph as {@link SkipLayerGraph} rewired it, its weights still read from the file's folder.
     */
    private OrtSession create(Path file, byte[] rewired, SessionProfile profile, OrtSession.SessionOptions options)
            throws OrtException {
        if (rewired != null) {
            options.addConfigEntry(Fp16CpuGraph.EXTERNAL_DATA_FOLDER, file.toAbsolutePath().getParent().toString());
        }
        if (profile.rewriteFp16Graphs() && active().kind() == Device.Kind.CPU) {
            Optional<byte[]> rewritten = rewired == null ? Fp16CpuGraph.rewrite(file) : fp16Rewrite(rewired, file);
            if (rewritten.isPresent()) {
                Fp16CpuGraph.configure(options, file.toAbsolutePath().getParent());
                try {
                    OrtSession session = environment().createSession(rewritten.get(), options);
                    REWRITTEN_SESSIONS.incrementAndGet();
                    return session;
                } catch (OrtException e) {
                    // fall through to ORT's own handling of the file; of configure()'s entries only the
                    // folding limit matters there, and ORT's own casts are made after folding anyway
                }
            }
        }
        return rewired != null ? environment().createSession(rewired, options)
                : environment().createSession(file.toString(), options);
    }

    private static Optional<byte[]> fp16Rewrite(byte[] rewired, Path file) {
        try {
            return Fp16CpuGraph.rewrite(ByteBuffer.wrap(rewired), file.getFileName().toString());
        } catch (RuntimeException e) {
            return Optional.empty(); // as for a file: ORT is given the graph it was going to get
        }
    }

    private OrtSession.SessionOptions sessionOptions(SessionProfile profile) throws OrtException {
        environment(); // first: ORT aborts the process when an option logs before its logger exists
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        if (threads == 0) {
            options.disablePerSessionThreads();
        } else {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
        }
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
        profile.applyTo(options);
        if (requested.kind() == Device.Kind.CUDA && active.get() != Device.CPU) {
            addCuda(options);
        } else {
            active.compareAndSet(null, Device.CPU);
        }
        return options;
    }

    private void addCuda(OrtSession.SessionOptions options) {
        try {
            options.addCUDA(cudaOptions());
            active.set(requested);
        } catch (OrtException e) {
            fallToCpu("the CUDA provider failed to start: " + OrtErrors.firstLine(e));
        }
    }

    /**
     * What a long-running studio needs from the CUDA provider (read from ORT's documented options,
     * not measured here: no GPU): a heuristic cuDNN algorithm choice instead of an exhaustive
     * benchmark that offload mode would repeat at every reload, and an arena that grows by what is
     * asked for rather than to the next power of two.
     */
    private ai.onnxruntime.providers.OrtCUDAProviderOptions cudaOptions() throws OrtException {
        var cuda = new ai.onnxruntime.providers.OrtCUDAProviderOptions(requested.index());
        cuda.add("cudnn_conv_algo_search", "HEURISTIC");
        cuda.add("arena_extend_strategy", "kSameAsRequested");
        return cuda;
    }

    private void fallToCpu(String reason) {
        fallbackReason = "GPU " + requested + " unavailable, running on CPU: " + reason;
        active.set(Device.CPU);
    }
}
