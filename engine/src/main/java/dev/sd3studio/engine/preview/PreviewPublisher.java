package dev.sd3studio.engine.preview;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.model.Json;
import dev.sd3studio.engine.model.ModelFolder;
import dev.sd3studio.engine.model.VaeConfig;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OrtRuntime;
import dev.sd3studio.engine.vae.ImageTensors;
import dev.sd3studio.engine.vae.VaeDecoder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Publishes step previews of the denoised estimate from a worker thread, so the denoising loop
 * never waits: while one preview is being decoded, newer ones replace older ones not yet started.
 *
 * <p>Method: a TAESD3-interface decoder ({@code vae_decoder/model.onnx} with input
 * {@code latent_sample} and output {@code sample}) in the folder the user chose, or in the model
 * folder's {@code taesd3/}; otherwise the linear latent projection. Output range rule: a folder
 * whose {@code config.json} names diffusers' {@code AutoencoderTiny} gives [−1, 1]; any other
 * (the raw TAESD network) gives [0, 1]; {@code "output_range": "0,1"} or {@code "-1,1"} in that
 * config overrides both.
 */
public final class PreviewPublisher implements AutoCloseable {
    public static final String MODEL_SUBFOLDER = "taesd3";

    private final Path decoderFile;
    private final boolean signedOutput;
    private final OrtRuntime runtime;
    private final String warning;
    private VaeDecoder decoder; // guarded by this
    private String brokenDecoder; // guarded by this: why the decoder could not be used, once it failed

    private PreviewPublisher(Path decoderFile, boolean signedOutput, OrtRuntime runtime, String warning) {
        this.decoderFile = decoderFile;
        this.signedOutput = signedOutput;
        this.runtime = runtime;
        this.warning = warning;
    }

    public static PreviewPublisher create(Path modelFolder, Path chosen, OrtRuntime runtime, VaeConfig vae)
            throws EngineException {
        Path dir = chosen != null ? chosen : modelFolder.resolve(MODEL_SUBFOLDER);
        Path file = dir.resolve("vae_decoder").resolve(ModelFolder.MODEL_FILE);
        if (!Files.isRegularFile(file)) {
            String warning = chosen == null ? null : "no preview decoder at " + file
                    + "; previews use the linear latent projection instead.";
            return new PreviewPublisher(null, true, runtime, warning);
        }
        return new PreviewPublisher(file, signedOutput(dir), runtime, null);
    }

    static boolean signedOutput(Path dir) throws EngineException {
        JsonNode config = Json.readIfPresent(dir.resolve("config.json"));
        String range = config.path("output_range").asText("");
        if (!range.isEmpty()) {
            return range.replace(" ", "").startsWith("-1");
        }
        return "AutoencoderTiny".equals(config.path("_class_name").asText());
    }

    public String method() {
        return decoderFile == null ? "linear latent projection" : "TAESD3 (" + decoderFile.getParent().getParent() + ")";
    }

    public Optional<String> warning() {
        return Optional.ofNullable(warning);
    }

    /** Decodes one denoised estimate (transformer-space latents, as they are) to NHWC [0, 1]. */
    public FloatTensor render(FloatTensor denoised) throws EngineException {
        return render(denoised, CancelToken.none());
    }

    synchronized FloatTensor render(FloatTensor denoised, CancelToken cancel) throws EngineException {
        if (decoderFile == null || brokenDecoder != null) {
            return LatentToRgb.project(denoised);
        }
        if (decoder == null) {
            decoder = openDecoder();
        }
        FloatTensor out = decoder.decode(denoised, cancel);
        if (!signedOutput) {
            float[] d = out.data();
            float[] signed = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                signed[i] = 2f * d[i] - 1f;
            }
            out = new FloatTensor(out.shape(), signed);
        }
        return ImageTensors.toImages(out);
    }

    /**
     * Opens the decoder; a session whose interface is wrong is closed here (wrap or close), and the
     * failure is remembered, so a bad folder costs one attempt, not one session per step.
     */
    private VaeDecoder openDecoder() throws EngineException {
        OnnxModel model;
        try {
            model = OnnxModel.open(runtime, "preview decoder", decoderFile);
        } catch (EngineException e) {
            brokenDecoder = e.getMessage();
            throw e;
        }
        try {
            return new VaeDecoder(model);
        } catch (EngineException | RuntimeException e) {
            model.close();
            brokenDecoder = e.getMessage();
            throw e;
        }
    }

    /** Frees the preview decoder's session now (offload mode); the next preview opens it again. */
    public synchronized void release() {
        if (decoder != null) {
            decoder.close();
            decoder = null;
        }
    }

    /** Whether the preview decoder's session is open now. */
    public synchronized boolean isOpen() {
        return decoder != null;
    }

    /** Starts publishing for one generation; {@code every} ≤ 0 publishes nothing. */
    public Session start(int every, ProgressListener listener) {
        return new Session(every, listener);
    }

    /**
     * One generation's previews, rendered on a single daemon thread. Nothing is published once
     * {@link #close()} has begun: publishing and closing share one lock and a closed flag, the
     * in-flight render is terminated through its own cancel token, and close waits for the worker
     * to end. So no preview can reach the listener after the generation has returned.
     */
    public final class Session implements AutoCloseable {
        private final int every;
        private final ProgressListener listener;
        private final ExecutorService worker;
        private final CancelToken renderCancel = new CancelToken();
        private final AtomicBoolean busy = new AtomicBoolean();
        private final List<Long> millis = Collections.synchronizedList(new ArrayList<>());
        private final Object publishLock = new Object();
        private boolean closed; // guarded by publishLock
        private final AtomicReference<Pending> pending = new AtomicReference<>();

        private record Pending(int step, FloatTensor latents) {
        }

        Session(int every, ProgressListener listener) {
            this.every = every;
            this.listener = listener;
            this.worker = every > 0 ? Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "sd3-preview");
                t.setDaemon(true);
                return t;
            }) : null;
        }

        /** Hands over a denoised estimate; returns at once. */
        public void offer(int step, int total, FloatTensor denoised) {
            if (worker == null || (step % every != 0 && step != total)) {
                return;
            }
            pending.set(new Pending(step, denoised));
            submitIfIdle();
        }

        private void submitIfIdle() {
            synchronized (publishLock) {
                if (!closed && !worker.isShutdown() && busy.compareAndSet(false, true)) {
                    worker.execute(this::drain);
                }
            }
        }

        /** Renders what is pending until nothing is; never resubmits itself, so shutdown cannot lose a step. */
        private void drain() {
            while (true) {
                for (Pending next = pending.getAndSet(null); next != null; next = pending.getAndSet(null)) {
                    Pending p = next;
                    long t0 = System.nanoTime();
                    try {
                        FloatTensor image = render(p.latents(), renderCancel);
                        millis.add((System.nanoTime() - t0) / 1_000_000);
                        publish(() -> listener.preview(p.step(), image));
                    } catch (EngineException e) {
                        publish(() -> listener.warning("preview failed: " + e.getMessage()
                                + (brokenDecoder() ? " Previews use the linear latent projection instead." : "")));
                        if (!brokenDecoder()) {
                            pending.set(null);
                        }
                    }
                }
                busy.set(false);
                // An offer that came after the loop's last look, while busy was still set, is ours.
                if (pending.get() == null || !busy.compareAndSet(false, true)) {
                    return;
                }
            }
        }

        private void publish(Runnable event) {
            synchronized (publishLock) {
                if (!closed) {
                    event.run();
                }
            }
        }

        /** Milliseconds each rendered preview took. */
        public List<Long> renderMillis() {
            synchronized (millis) {
                return List.copyOf(millis);
            }
        }

        /** Publishes what is still pending (the last step's preview), then stops the worker. */
        public void finish() {
            if (worker != null) {
                worker.shutdown();
                awaitWorker();
            }
        }

        /**
         * Stops at once: nothing is published from here on, the render in flight is terminated,
         * and the worker thread has ended when this returns (it used the decoder session).
         */
        @Override
        public void close() {
            if (worker == null) {
                return;
            }
            synchronized (publishLock) {
                closed = true;
            }
            renderCancel.cancel();
            worker.shutdown();
            awaitWorker();
        }

        private void awaitWorker() {
            boolean interrupted = false;
            while (true) {
                try {
                    if (worker.awaitTermination(1, TimeUnit.SECONDS)) {
                        break;
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private synchronized boolean brokenDecoder() {
        return brokenDecoder != null;
    }

    @Override
    public synchronized void close() {
        release();
    }
}
