package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.studio.Fixtures;
import dev.sd3studio.app.studio.task.TaskRunner;
import dev.sd3studio.engine.api.EngineException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The studio's own token path (the counter, through the engine session, on a worker thread) against the
 * engine being closed under it, as a model switch or quitting does. The count must end in a clean
 * "model was closed" error; on 76547b5 it reached a freed native tokenizer (DJL's "released already", and
 * in the studio a Rust panic or SIGSEGV that killed the JVM).
 */
class TokenCounterCloseTest {
    private static final String LONG_PROMPT = "a very detailed painting of a cat on a windowsill at dawn, ".repeat(40);

    /** Work on a real worker thread (as in the studio); UI callbacks on one "UI" thread. */
    private static final class ThreadedRunner implements TaskRunner {
        final ExecutorService workers = Executors.newCachedThreadPool();
        final ExecutorService ui = Executors.newSingleThreadExecutor();
        final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        volatile CountDownLatch started = new CountDownLatch(1);
        volatile CountDownLatch ended = new CountDownLatch(1);

        @Override
        public <T> void run(String name, Callable<T> work, Consumer<? super T> ok, Consumer<Throwable> failed) {
            workers.execute(() -> {
                started.countDown();
                try {
                    T result = work.call();
                    ui.execute(() -> ok.accept(result));
                } catch (Throwable e) {
                    failures.add(e);
                    ui.execute(() -> failed.accept(e));
                } finally {
                    ended.countDown();
                }
            });
        }

        @Override
        public void ui(Runnable action) {
            ui.execute(action);
        }

        @Override
        public Runnable later(Duration delay, Runnable action) {
            return () -> { };
        }

        void onUi(Runnable action) throws Exception {
            ui.submit(action).get(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            workers.shutdownNow();
            ui.shutdownNow();
        }
    }

    @Test
    void closingTheEngineWhileTheCounterCountsEndsTheCountCleanly() throws Exception {
        Path model = Fixtures.tinySd3();
        int endedByClose = 0;
        try (ThreadedRunner runner = new ThreadedRunner()) {
            for (int round = 0; round < 12; round++) {
                PromptViewModel prompt = new PromptViewModel();
                ParametersViewModel params = new ParametersViewModel();
                EngineSession session = new EngineSession(GeneratorFactory.ENGINE);
                TokenCounter counter = new TokenCounter(runner, session, prompt, params);
                params.maxSequenceLengthProperty().set(512);
                session.use(model, params.engineOptions(), g -> null);
                runner.started = new CountDownLatch(1);
                runner.ended = new CountDownLatch(1);
                runner.onUi(() -> {
                    params.modelProperty().set(new ModelEntry(model, "tiny-sd3", false, List.of()));
                    prompt.promptProperty().set(LONG_PROMPT); // long: the cut-point search makes many encodes
                    counter.countNow();
                });
                assertTrue(runner.started.await(10, TimeUnit.SECONDS), "the count never started");
                Thread.sleep(round % 6);
                session.close(); // what a model switch or the studio's "close-engine" does
                assertTrue(runner.ended.await(30, TimeUnit.SECONDS), "the count did not end after close");
                if (!runner.failures.isEmpty()) {
                    endedByClose++;
                }
                for (Throwable e : runner.failures) {
                    EngineException ee = assertInstanceOf(EngineException.class, e, String.valueOf(e));
                    assertTrue(ee.getMessage().contains("closed"), ee.getMessage());
                }
                runner.failures.clear();
            }
        }
        assertTrue(endedByClose > 0, "no round closed the engine while a count was running; the test proved nothing");
    }
}
