package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.lora.MergedWeights;

import java.nio.file.Path;
import java.util.List;
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
    private final int threads;
    private final AtomicReference<Device> active = new AtomicReference<>();
    private volatile String fallbackReason;

    public OrtRuntime(Device requested) {
        this(requested, Runtime.getRuntime().availableProcessors());
    }

    public OrtRuntime(Device requested, int threads) {
        this.requested = requested;
        this.threads = Math.max(1, threads);
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

    /** Every ORT session created in this process so far. */
    public static long sessionsCreated() {
        return CREATED_SESSIONS.get();
    }

    /** ORT sessions open now, in this process. */
    public static int liveSessions() {
        return LIVE_SESSIONS.get();
    }

    public static OrtEnvironment environment() {
        OrtProcess.beforeLoad();
        // ORT's own log lines would reach the terminal beside our one-line error (its errors arrive as exceptions).
        OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, "sd3studio");
        OrtProcess.afterLoad(env);
        return env;
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

    /** Opens a session for {@code file}; {@code component} names it in error messages. */
    public OrtSession open(String component, Path file) throws EngineException {
        try (OrtSession.SessionOptions options = sessionOptions()) {
            OrtSession session = environment().createSession(file.toString(), options);
            CREATED_SESSIONS.incrementAndGet();
            LIVE_SESSIONS.incrementAndGet();
            return session;
        } catch (OrtException e) {
            throw OrtErrors.onLoad(component, file, e);
        }
    }

    /**
     * Opens a session whose LoRA-merged weights replace the model's own; the returned session must be
     * closed before {@code attached}'s resources, which {@link OnnxModel} does.
     */
    OrtSession open(String component, Path file, MergedWeights merged, List<AutoCloseable> attached)
            throws EngineException {
        try (OrtSession.SessionOptions options = sessionOptions()) {
            MergedInitializers initializers = MergedInitializers.addTo(options, merged);
            try {
                OrtSession session = environment().createSession(file.toString(), options);
                CREATED_SESSIONS.incrementAndGet();
                LIVE_SESSIONS.incrementAndGet();
                attached.add(initializers);
                return session;
            } catch (OrtException | RuntimeException e) {
                initializers.close();
                throw e;
            }
        } catch (OrtException e) {
            merged.close();
            throw OrtErrors.onLoad(component, file, e);
        }
    }

    private OrtSession.SessionOptions sessionOptions() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
        if (requested.kind() == Device.Kind.CUDA && active.get() != Device.CPU) {
            addCuda(options);
        } else {
            active.compareAndSet(null, Device.CPU);
        }
        return options;
    }

    private void addCuda(OrtSession.SessionOptions options) {
        try {
            options.addCUDA(requested.index());
            active.set(requested);
        } catch (OrtException e) {
            fallToCpu("the CUDA provider failed to start: " + OrtErrors.firstLine(e));
        }
    }

    private void fallToCpu(String reason) {
        fallbackReason = "GPU " + requested + " unavailable, running on CPU: " + reason;
        active.set(Device.CPU);
    }
}
