package dev.sd3studio.engine.api;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Cancels a generation from any thread. The engine checks it between steps and registers hooks
 * that abort a running ONNX call, so a cancel takes effect within one step.
 */
public final class CancelToken {
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final List<Runnable> hooks = new CopyOnWriteArrayList<>();

    public static CancelToken none() {
        return new CancelToken();
    }

    public void cancel() {
        if (cancelled.compareAndSet(false, true)) {
            hooks.forEach(Runnable::run);
        }
    }

    public boolean isCancelled() {
        return cancelled.get();
    }

    /** Runs {@code hook} on cancel (at once if already cancelled); the returned handle removes it. */
    public AutoCloseable onCancel(Runnable hook) {
        hooks.add(hook);
        if (cancelled.get()) {
            hook.run();
        }
        return () -> hooks.remove(hook);
    }

    public void throwIfCancelled() throws EngineException {
        if (isCancelled()) {
            throw new EngineException(EngineException.Kind.CANCELLED, "Generation cancelled.");
        }
    }
}
