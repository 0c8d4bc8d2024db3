package dev.sd3studio.app.studio.task;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * Runs work off the UI thread and delivers its outcome on the UI thread. {@code ui} marshals any
 * callback (engine progress, previews) back onto the UI thread.
 */
public interface TaskRunner extends AutoCloseable {
    <T> void run(String name, Callable<T> work, Consumer<? super T> onSuccess, Consumer<Throwable> onFailure);

    void ui(Runnable action);

    /**
     * Runs {@code action} on the UI thread once {@code delay} has passed, for debouncing.
     *
     * @return cancels the action if it has not started yet
     */
    Runnable later(Duration delay, Runnable action);

    @Override
    void close();
}
