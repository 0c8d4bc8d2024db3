package dev.sd3studio.app.hub;

import java.util.function.Consumer;

/** Running totals over all the files of one download, reported to a listener (throttled while bytes flow). */
public final class TransferProgress {
    private final long total;
    private final Consumer<DownloadProgress> listener;
    private final TransferRate rate = new TransferRate();
    private long done;
    private long lastEmit;

    public TransferProgress(long total, Consumer<DownloadProgress> listener) {
        this.total = total;
        this.listener = listener;
    }

    public long done() {
        return done;
    }

    /** Counts bytes fetched (or, negative, bytes thrown away). */
    public void add(long bytes) {
        done += bytes;
    }

    void emitThrottled(String file) {
        long now = System.nanoTime();
        rate.update(done, now);
        if (now - lastEmit > 250_000_000L) {
            lastEmit = now;
            emit(DownloadProgress.State.DOWNLOADING, file, null);
        }
    }

    public void emit(DownloadProgress.State state, String file, String note) {
        if (state == DownloadProgress.State.PAUSED) {
            rate.reset();
        }
        listener.accept(new DownloadProgress(state, file, done, total, rate.bytesPerSecond(), rate.eta(total - done), note));
    }
}
