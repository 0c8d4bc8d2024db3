package dev.sd3studio.app.studio;

import dev.sd3studio.app.studio.vm.GeneratorFactory;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.api.StepEvent;
import dev.sd3studio.engine.api.ModelReport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A recording, optionally slow, engine fake: remembers the options it was opened with and every
 * request; one token per word; gradient images (or, when asked, the engine's NaN error).
 */
public final class FakeFactory implements GeneratorFactory {
    public final List<EngineOptions> opened = new CopyOnWriteArrayList<>();
    public final List<GenerationRequest> requests = new CopyOnWriteArrayList<>();
    public volatile long stepMillis;
    public volatile boolean nanOutput;
    /** When above 0: the run is cancelled right after this step's preview went out, as Esc mid-run would. */
    public volatile int cancelAfterStep;
    public volatile String modelName = "fake-sd3";
    public volatile List<String> missing = List.of();
    /** What the model tells about skip-layer guidance: SD3.5 Large's 38 blocks and no recommendation by default. */
    public volatile int transformerBlocks = 38;
    public volatile List<Integer> recommendedSkipLayers = List.of();
    /** LoRA file names no layer of this model matches: the report fails as the engine's does for them. */
    public volatile java.util.Set<String> foreignLoras = java.util.Set.of();
    /** Calls that run all three tokenizers, and calls that run one. */
    public final java.util.concurrent.atomic.AtomicInteger fullTokenizeCalls = new java.util.concurrent.atomic.AtomicInteger();
    public final java.util.concurrent.atomic.AtomicInteger singleTokenizeCalls = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public Sd3Generator open(Path modelDir, EngineOptions options) {
        opened.add(options);
        return new Fake();
    }

    @Override
    public ModelReport layout(Path modelDir) {
        List<ModelReport.Part> parts = missing.stream().map(m -> new ModelReport.Part(m, m, true, ModelReport.Status.MISSING,
                "-", 0, List.of(), List.of(), "no " + m)).toList();
        return new ModelReport(modelDir, "optimum", parts, List.of());
    }

    private final class Fake implements Sd3Generator {
        @Override
        public GenerationResult generate(GenerationRequest r, ProgressListener l, CancelToken cancel) throws EngineException {
            requests.add(r);
            int w = r.width() == null ? 64 : r.width();
            int h = r.height() == null ? 64 : r.height();
            long start = System.nanoTime();
            l.stage("denoise");
            for (int s = 1; s <= r.steps(); s++) {
                cancel.throwIfCancelled();
                if (stepMillis > 0) {
                    try {
                        Thread.sleep(stepMillis);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                cancel.throwIfCancelled();
                l.step(new StepEvent(s, r.steps(), 1f, Duration.ofNanos(System.nanoTime() - start), null, null));
                l.preview(s, image(1, w, h, s / (float) r.steps()));
                if (s == cancelAfterStep) {
                    cancel.cancel();
                }
            }
            cancel.throwIfCancelled();
            if (nanOutput) {
                // what the engine's decoded-image policy reports; the studio relies on it
                throw new EngineException(EngineException.Kind.NUMERIC_OVERFLOW, "the decoded image contains NaN values"
                        + " (the VAE decoder overflowed; use an fp32 VAE export).");
            }
            int n = r.batchSize();
            GenerationRequest resolved = r.toBuilder().optSize(w, h).optSeed(r.seed() == null ? 42L : r.seed()).build();
            return new GenerationResult(image(n, w, h, 1f), resolved, List.of(), Map.of());
        }

        private FloatTensor image(int n, int w, int h, float level) {
            float[] d = new float[n * w * h * 3];
            for (int i = 0; i < d.length; i++) {
                d[i] = level * ((i / 3) % w) / (float) w;
            }
            return new FloatTensor(new long[] {n, h, w, 3}, d);
        }

        @Override
        public Map<String, TokenCount> tokenize(String prompt, int max) {
            fullTokenizeCalls.incrementAndGet();
            return counts(prompt, max);
        }

        @Override
        public TokenCount tokenize(String tokenizer, String prompt, int max) {
            singleTokenizeCalls.incrementAndGet();
            return counts(prompt, max).get(tokenizer);
        }

        private Map<String, TokenCount> counts(String prompt, int max) {
            int words = prompt.isBlank() ? 0 : prompt.trim().split("\\s+").length;
            return Map.of("tokenizer", count(words + 2, 77), "tokenizer_2", count(words + 2, 77),
                    "tokenizer_3", count(words + 1, max));
        }

        private TokenCount count(int n, int limit) {
            return new TokenCount(new long[limit], new long[limit], n, limit);
        }

        @Override
        public dev.sd3studio.engine.api.LoraReport loraReport(List<dev.sd3studio.engine.api.LoraSpec> loras)
                throws EngineException {
            List<dev.sd3studio.engine.api.LoraReport.FileReport> files = new java.util.ArrayList<>();
            for (var spec : loras) {
                if (foreignLoras.contains(spec.file().getFileName().toString())) {
                    throw new EngineException(EngineException.Kind.INVALID_REQUEST, "LoRA " + spec.file()
                            + " matched no layer of the transformer. Is it a LoRA for SD3 / SD3.5 of this size?");
                }
                files.add(new dev.sd3studio.engine.api.LoraReport.FileReport(spec, List.of(
                        new dev.sd3studio.engine.api.LoraReport.Match("lora_q", "transformer", "block0.q", "q")),
                        List.of(), List.of()));
            }
            return new dev.sd3studio.engine.api.LoraReport(files);
        }

        @Override
        public ModelInfo info() {
            return new ModelInfo(modelName, 64, 64, 16, true, true, "latent2rgb", List.of(), transformerBlocks,
                    recommendedSkipLayers);
        }

        @Override
        public Optional<String> deviceFallbackReason() {
            return opened.getLast().device().kind() == dev.sd3studio.engine.api.Device.Kind.CUDA
                    ? Optional.of("CUDA is not available: no libcudart found.") : Optional.empty();
        }

        @Override
        public void close() {
        }
    }
}
