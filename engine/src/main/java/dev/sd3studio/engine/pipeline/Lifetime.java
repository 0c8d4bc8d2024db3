package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The one owner of an open model's native parts (ORT sessions, DJL tokenizers). Every use holds a
 * {@link Lease} for its whole duration; {@link #close} takes the lock exclusively, so it waits until
 * every lease has ended and no new one can start, and only then frees. A native call on a freed
 * handle would need a lease that outlives the close, which the lock rules out.
 */
final class Lifetime {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed; // guarded by lock

    /** A use of the native parts; release it on the thread that took it. */
    interface Lease extends AutoCloseable {
        @Override
        void close();
    }

    /** Starts a use, or fails when the model was already closed. */
    Lease lease() throws EngineException {
        ReentrantReadWriteLock.ReadLock read = lock.readLock();
        read.lock();
        if (closed) {
            read.unlock();
            throw new EngineException(Kind.CANCELLED, "the model was closed (another model or device was"
                    + " chosen); open it again to continue.");
        }
        return read::unlock;
    }

    /** Waits for every lease to end, then runs {@code free} once; later calls do nothing. */
    void close(Runnable free) {
        if (lock.getReadHoldCount() > 0) {
            throw new IllegalStateException("close() from inside a use of the same model would wait for itself");
        }
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                free.run();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
