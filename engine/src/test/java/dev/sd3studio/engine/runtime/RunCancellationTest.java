package dev.sd3studio.engine.runtime;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.vae.VaeDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A cancel that lands inside an ONNX run stops it; cancel racing the end of runs never throws. */
class RunCancellationTest {
    @TempDir
    Path models;

    @Test
    void aCancelInsideARunTerminatesIt() throws Exception {
        // 512² · 400 links ≈ 100 GFLOP on one thread: tens of seconds uncancelled, far beyond the cancel at 300 ms.
        Path file = OnnxTestModels.slowChain(models, 512, 400);
        try (VaeDecoder decoder = new VaeDecoder(OnnxModel.open(new OrtRuntime(Device.CPU, 1), "vae_decoder", file))) {
            CancelToken cancel = new CancelToken();
            FloatTensor x = FloatTensor.zeros(512, 512);
            CompletableFuture<Object> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return decoder.decode(x, cancel);
                } catch (EngineException e) {
                    return e;
                }
            });
            Thread.sleep(300);
            long t0 = System.nanoTime();
            cancel.cancel();
            Object outcome = run.get(20, TimeUnit.SECONDS);
            long stoppedMs = (System.nanoTime() - t0) / 1_000_000;
            EngineException e = assertInstanceOf(EngineException.class, outcome,
                    "the run finished although cancelled inside it");
            assertEquals(EngineException.Kind.CANCELLED, e.kind());
            assertInstanceOf(ai.onnxruntime.OrtException.class, e.getCause(), "stopped by ORT's terminate flag");
            assertTrue(stoppedMs < 10_000, "stopped " + stoppedMs + " ms after the cancel");
        }
    }

    @Test
    void cancelRacingTheEndOfRunsNeverThrows() throws Exception {
        try (VaeDecoder decoder = new VaeDecoder(OnnxModel.open(new OrtRuntime(Device.CPU, 1), "vae_decoder",
                OnnxTestModels.fp16Scale(models)))) {
            FloatTensor x = FloatTensor.zeros(1, 4, 8, 8);
            AtomicReference<CancelToken> current = new AtomicReference<>(new CancelToken());
            AtomicReference<Throwable> escaped = new AtomicReference<>();
            Thread canceller = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        current.get().cancel();
                    } catch (Throwable t) {
                        escaped.compareAndSet(null, t);
                    }
                }
            });
            canceller.start();
            int cancelled = 0;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            int runs = 0;
            while (System.nanoTime() < end) {
                CancelToken token = new CancelToken();
                current.set(token);
                try {
                    decoder.decode(x, token);
                } catch (EngineException e) {
                    assertEquals(EngineException.Kind.CANCELLED, e.kind(), e.getMessage());
                    cancelled++;
                }
                runs++;
            }
            canceller.interrupt();
            canceller.join();
            assertNull(escaped.get(), "cancel() threw after " + runs + " runs");
            assertTrue(cancelled > 0, "some of " + runs + " runs were cancelled");
        }
    }
}
