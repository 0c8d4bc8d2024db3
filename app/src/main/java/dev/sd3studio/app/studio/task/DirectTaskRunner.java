package dev.sd3studio.app.studio.task;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/** Runs everything at once on the calling thread: view-model tests need no toolkit and no waiting. */
public final class DirectTaskRunner implements TaskRunner {
    @Override
    public <T> void run(String name, Callable<T> work, Consumer<? super T> onSuccess, Consumer<Throwable> onFailure) {
        T result;
        try {
            result = work.call();
        } catch (Throwable e) {
            onFailure.accept(e);
            return;
        }
        onSuccess.accept(result);
    }

    @Override
    public void ui(Runnable action) {
        action.run();
    }

    /** No waiting in tests: the action runs at once. */
    @Override
    public Runnable later(Duration delay, Runnable action) {
        action.run();
        return () -> { };
    }

    @Override
    public void close() {
    }
}
