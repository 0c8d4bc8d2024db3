package dev.sd3studio.app.hub;

import java.io.Closeable;
import java.io.IOException;

/**
 * Pause, resume and cancel for a running download, from any thread. Pausing drops the connection
 * (a paused download holds no socket) and the transfer continues with a range request on resume.
 */
public final class DownloadControl {
    private boolean paused;
    private boolean cancelled;
    private Closeable current;

    public synchronized void pause() {
        paused = true;
        dropConnection();
    }

    public synchronized void resume() {
        paused = false;
        notifyAll();
    }

    /** Stops the download; what was fetched so far is deleted. */
    public synchronized void cancel() {
        cancelled = true;
        dropConnection();
        notifyAll();
    }

    public synchronized boolean isPaused() {
        return paused;
    }

    public synchronized boolean isCancelled() {
        return cancelled;
    }

    /** Blocks while paused; fails once cancelled. */
    synchronized void checkpoint(Runnable onPause) throws HubException {
        if (paused && !cancelled) {
            onPause.run();
        }
        while (paused && !cancelled) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                cancelled = true;
            }
        }
        if (cancelled) {
            throw new HubException(HubException.Kind.CANCELLED, "download cancelled");
        }
    }

    synchronized void attach(Closeable connection) {
        current = connection;
        if (paused || cancelled) {
            dropConnection();
        }
    }

    synchronized void detach() {
        current = null;
    }

    private void dropConnection() {
        if (current != null) {
            try {
                current.close();
            } catch (IOException ignored) {
                // the transfer loop sees the closed stream and stops reading
            }
        }
    }
}
