package dev.sd3studio.app.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The one loop that brings a file over HTTP (model files from the Hub, the GPU pack's archives):
 * written as {@code NAME.part}, resumed with a range request after a dropped connection, a pause
 * or a restart, retried with backoff, closed when it stalls, hashed as it arrives (resumed bytes
 * included) and renamed to {@code NAME} only when its hash matches.
 */
public final class VerifiedDownload {
    private static final int BUFFER = 1 << 20;

    /** Opens the content from an offset; the answer says where it really starts. */
    public interface Source {
        HubClient.Download open(long offset) throws HubException;
    }

    /**
     * One file: {@code name} for progress lines, {@code label} for messages (which file of what),
     * its size and the hash its content must have (empty when none is known: then it is installed
     * unverified and the progress says so).
     */
    public record Remote(String name, String label, Source source, long size, Optional<ContentHash> hash) {
    }

    private final int maxAttempts;
    private final Duration firstBackoff;
    private final Duration stallTimeout;
    private final String resumeHint;

    /** {@code resumeHint} ends the "keeps failing" message: what the user runs to resume. */
    public VerifiedDownload(int maxAttempts, Duration firstBackoff, Duration stallTimeout, String resumeHint) {
        this.maxAttempts = maxAttempts;
        this.firstBackoff = firstBackoff;
        this.stallTimeout = stallTimeout;
        this.resumeHint = resumeHint;
    }

    /** The file a download of {@code file} is written to until verified. */
    public static Path partOf(Path file) {
        return file.resolveSibling(file.getFileName() + ".part");
    }

    /** Bytes of {@code file} already held in its {@code .part} (0 when none, or when it cannot be the start of it). */
    public static long partialBytes(Path file, long size) {
        try {
            Path part = partOf(file);
            return Files.isRegularFile(part) && Files.size(part) <= size ? Files.size(part) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** Fetches {@code f} into {@code target} (resuming its {@code .part}); fails rather than install other content. */
    public void fetch(Remote f, Path target, DownloadControl control, TransferProgress progress)
            throws HubException, IOException {
        Files.createDirectories(target.getParent());
        Path part = partOf(target);
        for (int round = 0; ; round++) {
            byte[] digest = bringToSize(f, part, control, progress);
            if (f.hash().isEmpty() || f.hash().get().matches(digest)) {
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                if (f.hash().isEmpty()) {
                    progress.emit(DownloadProgress.State.UNVERIFIED, f.name(), "installed unverified: no hash is known for it");
                }
                return;
            }
            long wrong = Files.size(part);
            Files.deleteIfExists(part);
            progress.add(-wrong);
            if (round >= 1) {
                ContentHash expected = f.hash().get();
                throw new HubException(HubException.Kind.HASH_MISMATCH, f.label() + " failed its "
                        + expected.algorithm().label() + " check twice (expected " + expected.hex() + ", got "
                        + HexFormat.of().formatHex(digest) + "); it was discarded and nothing was installed."
                        + " The file on the server may be damaged; try again later");
            }
            // a corrupted resume is worth one fresh attempt before giving up
        }
    }

    /** Brings {@code part} to the file's full size and returns the digest of its whole content. */
    private byte[] bringToSize(Remote f, Path part, DownloadControl control, TransferProgress progress)
            throws HubException, IOException {
        MessageDigest md = digestFor(f);
        long have = 0;
        if (Files.isRegularFile(part) && Files.size(part) <= f.size()) {
            have = Files.size(part);
            try (InputStream in = Files.newInputStream(part)) {
                update(md, in);
            }
        } else {
            Files.deleteIfExists(part);
            Files.createFile(part);
        }
        int failures = 0;
        while (have < f.size()) {
            control.checkpoint(() -> progress.emit(DownloadProgress.State.PAUSED, f.name(), null));
            long before = have;
            try (HubClient.Download d = f.source().open(have)) {
                control.attach(d);
                if (d.start() != have) {
                    // the server ignored the range and sends the whole file: start over
                    progress.add(-have);
                    have = 0;
                    md = digestFor(f);
                    Files.write(part, new byte[0], StandardOpenOption.TRUNCATE_EXISTING);
                }
                have = copy(d.stream(), part, have, f, md, control, progress);
                if (have < f.size() && !control.isPaused() && !control.isCancelled()) {
                    throw new IOException("the connection closed after " + have + " of " + f.size() + " bytes");
                }
            } catch (IOException | HubException e) {
                // copy() wrote and hashed every byte it read before the failure
                have = Files.size(part);
                if (control.isCancelled()) {
                    throw new HubException(HubException.Kind.CANCELLED, "download cancelled");
                }
                if (control.isPaused()) {
                    continue;
                }
                if (e instanceof HubException he && he.kind() != HubException.Kind.NETWORK) {
                    throw he;
                }
                failures = have > before ? 1 : failures + 1;
                if (failures >= maxAttempts) {
                    throw new HubException(HubException.Kind.NETWORK, "downloading " + f.label() + " keeps failing ("
                            + reason(e) + "); what was fetched is kept: " + resumeHint, e);
                }
                Duration wait = firstBackoff.multipliedBy(1L << Math.min(failures - 1, 5));
                progress.emit(DownloadProgress.State.RETRYING, f.name(), "connection lost, retrying in "
                        + Sizes.duration(wait) + " (" + shortReason(e) + ")");
                sleep(wait, control);
            } finally {
                control.detach();
            }
        }
        progress.emit(DownloadProgress.State.VERIFYING, f.name(), null);
        return md.digest();
    }

    private long copy(InputStream in, Path part, long have, Remote f, MessageDigest md, DownloadControl control,
                      TransferProgress progress) throws IOException {
        byte[] buf = new byte[BUFFER];
        Watchdog watchdog = new Watchdog(in, stallTimeout);
        try (OutputStream out = Files.newOutputStream(part, StandardOpenOption.APPEND)) {
            int n;
            while (have < f.size() && (n = in.read(buf, 0, (int) Math.min(buf.length, f.size() - have))) > 0) {
                out.write(buf, 0, n);
                md.update(buf, 0, n);
                have += n;
                progress.add(n);
                watchdog.alive();
                progress.emitThrottled(f.name());
                if (control.isPaused() || control.isCancelled()) {
                    break;
                }
            }
        } finally {
            watchdog.stop();
        }
        return have;
    }

    private static MessageDigest digestFor(Remote f) {
        // an unverified file is hashed too (nothing compares it), to keep one copy loop
        return f.hash().map(ContentHash::algorithm).orElse(ContentHash.Algorithm.SHA256).start(f.size());
    }

    static void update(MessageDigest md, InputStream in) throws IOException {
        byte[] buf = new byte[BUFFER];
        int n;
        while ((n = in.read(buf)) > 0) {
            md.update(buf, 0, n);
        }
    }

    private static void sleep(Duration d, DownloadControl control) throws HubException {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            if (control.isCancelled()) {
                throw new HubException(HubException.Kind.CANCELLED, "download cancelled");
            }
            try {
                Thread.sleep(Math.min(100, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(HubException.Kind.CANCELLED, "download cancelled", e);
            }
        }
    }

    private static String reason(Exception e) {
        return e instanceof IOException io ? HubClient.describe(io) : e.getMessage();
    }

    private static String shortReason(Exception e) {
        String m = reason(e);
        return m.length() > 80 ? m.substring(0, 80) + "…" : m;
    }

    /** Closes a stream that has delivered nothing for too long, so a stalled connection is retried. */
    private static final class Watchdog {
        private final Thread thread;
        private volatile long last = System.nanoTime();
        private volatile boolean running = true;

        Watchdog(InputStream in, Duration timeout) {
            thread = Thread.ofVirtual().start(() -> {
                while (running) {
                    try {
                        Thread.sleep(Math.min(1000, Math.max(10, timeout.toMillis() / 4)));
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (running && System.nanoTime() - last > timeout.toNanos()) {
                        try {
                            in.close();
                        } catch (IOException ignored) {
                            // the reader fails and the transfer is retried
                        }
                        return;
                    }
                }
            });
        }

        void alive() {
            last = System.nanoTime();
        }

        void stop() {
            running = false;
            thread.interrupt();
        }
    }
}
