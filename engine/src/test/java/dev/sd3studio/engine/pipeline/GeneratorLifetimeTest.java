package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.StepEvent;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closing a generator while it tokenizes or generates: close waits, nothing hangs, later calls fail cleanly. */
class GeneratorLifetimeTest {
    private static final String LONG_PROMPT = "a very detailed painting of a cat on a windowsill at dawn, ".repeat(40);

    /** One tokenize call, as a caller makes it: all three tokenizers, or one (the studio's counter does that). */
    interface TokenizeCall {
        void run(Sd3Pipeline engine) throws EngineException;
    }

    static Stream<Arguments> tokenizeCalls() {
        return Stream.of(
                Arguments.of("all three tokenizers", (TokenizeCall) e -> e.tokenize(LONG_PROMPT, 512)),
                Arguments.of("T5 alone", (TokenizeCall) e -> e.tokenize("tokenizer_3", LONG_PROMPT, 512)),
                Arguments.of("CLIP-L alone", (TokenizeCall) e -> e.tokenize("tokenizer", LONG_PROMPT, 77)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tokenizeCalls")
    void closeWhileTokenizingNeitherHangsNorFreesUnderTheTokenizer(String name, TokenizeCall call) throws Exception {
        for (int round = 0; round < 5; round++) {
            Sd3Pipeline engine = Sd3Pipeline.open(Fixtures.model("tiny-sd3"), EngineOptions.defaults());
            CountDownLatch started = new CountDownLatch(2);
            List<Thread> threads = new ArrayList<>();
            List<Throwable> ends = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 2; t++) {
                Thread thread = new Thread(() -> {
                    started.countDown();
                    try {
                        while (true) {
                            call.run(engine);
                        }
                    } catch (Throwable e) {
                        ends.add(e);
                    }
                });
                thread.start();
                threads.add(thread);
            }
            started.await();
            Thread.sleep(1 + round * 2);
            engine.close();
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(20));
                assertFalse(thread.isAlive(), "a tokenizing thread is still running 20 s after close()");
            }
            assertEquals(2, ends.size());
            for (Throwable e : ends) {
                EngineException ee = assertInstanceOf(EngineException.class, e, String.valueOf(e));
                assertTrue(ee.getMessage().contains("closed"), ee.getMessage());
            }
        }
    }

    @Test
    void closeDuringAGenerationStopsItAndFreesEverySessionAfterIt() throws Exception {
        Sd3Pipeline engine = Sd3Pipeline.open(Fixtures.model("tiny-sd3"), EngineOptions.defaults());
        CountDownLatch stepped = new CountDownLatch(1);
        CancelToken cancel = new CancelToken();
        CompletableFuture<Throwable> run = CompletableFuture.supplyAsync(() -> {
            try {
                engine.generate(GenerationRequest.builder("a cat").optSteps(500).optSeed(1L).optPreviewEvery(1).build(),
                        new ProgressListener() {
                            @Override
                            public void step(StepEvent e) {
                                stepped.countDown();
                            }
                        }, cancel);
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        assertTrue(stepped.await(60, TimeUnit.SECONDS));
        engine.close();
        // close() returned, so the generation has ended (it held a lease) and was stopped through its token.
        assertTrue(run.isDone(), "close() returned while the generation was still running");
        EngineException e = assertInstanceOf(EngineException.class, run.get());
        assertEquals(EngineException.Kind.CANCELLED, e.kind());
        assertTrue(cancel.isCancelled());
        EngineException later = assertThrows(EngineException.class, () -> engine.tokenize("a cat", 77));
        assertTrue(later.getMessage().contains("closed"), later.getMessage());
        assertThrows(EngineException.class, () -> engine.generate(GenerationRequest.builder("a cat").build(),
                ProgressListener.NONE, CancelToken.none()));
        engine.close();
    }

    @Test
    void closingFreesEverySession() throws Exception {
        int before = OrtRuntime.liveSessions();
        Sd3Pipeline engine = Sd3Pipeline.open(Fixtures.model("tiny-sd3"),
                EngineOptions.defaults().withPreviewModel(Fixtures.model("tiny-taesd3")));
        engine.generate(GenerationRequest.builder("a cat").optSteps(2).optSeed(1L).optPreviewEvery(1).build(),
                ProgressListener.NONE, CancelToken.none());
        assertTrue(OrtRuntime.liveSessions() > before);
        engine.close();
        assertEquals(before, OrtRuntime.liveSessions());
    }

    /** On Windows an open handle blocks replacing or deleting the LoRA; close() must not leave that to the GC. */
    @Test
    void closingReleasesTheLoraFiles() throws Exception {
        Path lora = Fixtures.root().resolve("goldens-lora/sd3_lora_rank4/lora.safetensors");
        Sd3Pipeline engine = Sd3Pipeline.open(Fixtures.model("tiny-sd3"), EngineOptions.defaults());
        engine.generate(GenerationRequest.builder("a cat").optSteps(1).optSeed(1L)
                .optLoras(List.of(new LoraSpec(lora, 1.0))).build(), ProgressListener.NONE, CancelToken.none());
        assertTrue(openDescriptorsOf(lora) > 0, "the LoRA was never held open; the check below proves nothing");
        engine.close();
        assertEquals(0, openDescriptorsOf(lora), "LoRA file still open after close()");
    }

    /** Descriptors of this process that point at {@code file} (Linux's /proc; CI runs on Linux). */
    private static long openDescriptorsOf(Path file) throws IOException {
        Path real = file.toRealPath();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (IOException e) {
                    return false; // closed while listing
                }
            }).count();
        }
    }
}
