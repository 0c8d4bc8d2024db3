package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.sd3studio.engine.api.CancelToken;

/**
 * One ONNX run's {@code RunOptions}, armed against a cancel token. The cancel hook and
 * {@link #close()} share one lock: the hook sets ORT's terminate flag only while the run is live,
 * and the options are freed only after the run is marked dead under that lock. So a cancel can
 * never reach freed options, whichever thread presses it and whenever.
 */
final class TerminableRun implements AutoCloseable {
    private final OrtSession.RunOptions options;
    private final CancelToken.Registration hook;
    private boolean live = true; // guarded by this

    TerminableRun(CancelToken cancel) throws OrtException {
        this.options = new OrtSession.RunOptions();
        this.hook = cancel.onCancel(this::terminate);
    }

    OrtSession.RunOptions options() {
        return options;
    }

    private synchronized void terminate() {
        if (live) {
            try {
                options.setTerminate(true);
            } catch (OrtException ignored) {
                // ORT refused the flag: the run simply finishes and the token stops the next one
            }
        }
    }

    @Override
    public void close() {
        hook.close();
        synchronized (this) {
            live = false;
        }
        options.close();
    }
}
