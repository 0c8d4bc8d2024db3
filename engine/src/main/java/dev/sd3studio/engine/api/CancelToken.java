package dev.sd3studio.engine.api;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Cancels a generation from any thread. {@link #cancel()} only sets the token and tells the
 * registered hooks; it never throws and never touches a native handle itself: the engine's hooks
 * check, under the run's own lock, that the ONNX call they would stop is still live. The engine
 * also checks the token between steps, so a cancel takes effect within one step.
 */
public final class CancelToken {
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final List<Runnable> hooks = new CopyOnWriteArrayList<>();

    public static CancelToken none() {
        return new CancelToken();
    }

    /** Sets the token; every hook runs even when one of them throws. Safe from any thread, any time. */
    public void cancel() {
        if (cancelled.compareAndSet(false, true)) {
            hooks.forEach(CancelToken::runQuietly);
        }
    }

    public boolean isCancelled() {
        return cancelled.get();
    }

    /** Runs {@code hook} on cancel (at once if already cancelled); the returned handle removes it. */
    public Registration onCancel(Runnable hook) {
        hooks.add(hook);
        if (cancelled.get()) {
            runQuietly(hook);
        }
        return () -> hooks.remove(hook);
    }

    public void throwIfCancelled() throws EngineException {
        if (isCancelled()) {
            throw new EngineException(EngineException.Kind.CANCELLED, "Generation cancelled.");
        }
    }

    private static void runQuietly(Runnable hook) {
        try {
            hook.run();
        } catch (RuntimeException ignored) {
            // a failing hook must neither stop the others nor reach the thread that pressed Cancel
        }
    }

    /** Removes a hook; closing it twice is harmless. */
    @FunctionalInterface
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }
}
