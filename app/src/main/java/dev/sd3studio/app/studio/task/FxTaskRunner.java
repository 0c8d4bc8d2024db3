package dev.sd3studio.app.studio.task;

import javafx.application.Platform;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** Named daemon threads for the work, {@link Platform#runLater} for the results. */
public final class FxTaskRunner implements TaskRunner {
    private final AtomicInteger count = new AtomicInteger();
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "sd3studio-task-" + count.incrementAndGet());
        t.setDaemon(true); // an unfinished generation must not keep the JVM alive after the window closes
        return t;
    });

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sd3studio-timer");
        t.setDaemon(true);
        return t;
    });

    @Override
    public <T> void run(String name, Callable<T> work, Consumer<? super T> onSuccess, Consumer<Throwable> onFailure) {
        pool.execute(() -> {
            Thread.currentThread().setName("sd3studio-" + name);
            try {
                T result = work.call();
                ui(() -> onSuccess.accept(result));
            } catch (Throwable e) {
                ui(() -> onFailure.accept(e));
            }
        });
    }

    @Override
    public void ui(Runnable action) {
        if (Platform.isFxApplicationThread()) {
            action.run();
        } else {
            Platform.runLater(action);
        }
    }

    @Override
    public Runnable later(Duration delay, Runnable action) {
        ScheduledFuture<?> f = timer.schedule(() -> ui(action), delay.toNanos(), TimeUnit.NANOSECONDS);
        return () -> f.cancel(false);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        pool.shutdownNow();
    }
}
