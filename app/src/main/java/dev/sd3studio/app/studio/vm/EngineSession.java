package dev.sd3studio.app.studio.vm;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.Sd3Generator;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Keeps one open generator and reopens it only when the model folder or the engine options change
 * (device, offload), so consecutive generations reuse loaded sessions. Called from worker threads.
 */
final class EngineSession implements AutoCloseable {
    private final GeneratorFactory factory;
    private volatile Sd3Generator current;
    private volatile Path model;
    private EngineOptions options;

    EngineSession(GeneratorFactory factory) {
        this.factory = factory;
    }

    /** Work on the generator; holding the lock means a model switch never closes a running generation. */
    interface Work<T> {
        T apply(Sd3Generator generator) throws EngineException;
    }

    synchronized <T> T use(Path modelDir, EngineOptions opts, Work<T> work) throws EngineException {
        return work.apply(acquire(modelDir, opts));
    }

    private Sd3Generator acquire(Path modelDir, EngineOptions opts) throws EngineException {
        if (current != null && Objects.equals(model, modelDir) && Objects.equals(options, opts)) {
            return current;
        }
        close();
        current = factory.open(modelDir, opts);
        model = modelDir;
        options = opts;
        return current;
    }

    /** The open generator if it serves this model, for tokenizing (thread-safe) beside a running generation. */
    Sd3Generator peek(Path modelDir) {
        return current != null && Objects.equals(model, modelDir) ? current : null;
    }

    @Override
    public synchronized void close() {
        if (current != null) {
            current.close();
            current = null;
        }
    }
}
