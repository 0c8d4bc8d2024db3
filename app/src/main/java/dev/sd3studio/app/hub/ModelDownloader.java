package dev.sd3studio.app.hub;

import dev.sd3studio.engine.api.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Downloads the files a model needs into a hidden staging folder beside the destination, and
 * renames that folder to the destination only when every file is there and verified, so an
 * interrupted download never looks like a model. Inside the staging folder each file is written
 * as {@code NAME.part} and renamed once its hash matches; a later run (after a dropped connection,
 * a pause or a restart) keeps the verified files and resumes each {@code .part} with a range request.
 */
public final class ModelDownloader {
    private static final long DISK_MARGIN = 64L * 1024 * 1024;
    private static final int BUFFER = 1 << 20;

    private final HubClient client;
    private final int maxAttempts;
    private final Duration firstBackoff;
    private final Duration stallTimeout;

    public ModelDownloader(HubClient client) {
        this(client, 6, Duration.ofSeconds(2), Duration.ofSeconds(60));
    }

    public ModelDownloader(HubClient client, int maxAttempts, Duration firstBackoff, Duration stallTimeout) {
        this.client = client;
        this.maxAttempts = maxAttempts;
        this.firstBackoff = firstBackoff;
        this.stallTimeout = stallTimeout;
    }

    /** What a pull will fetch: the checked file list, the bytes already staged and still to come. */
    public record Plan(RepoRef ref, Path dest, ModelFiles files, long bytesStaged) {
        public long bytesToFetch() {
            return files.totalBytes() - bytesStaged;
        }
    }

    /** The folder a pull writes into until it is complete. */
    public static Path stagingFor(Path dest) {
        Path abs = dest.toAbsolutePath().normalize();
        return abs.resolveSibling("." + abs.getFileName() + ".partial");
    }

    /** Lists the repository, checks the layout and the disk space; fetches nothing large. */
    public Plan plan(RepoRef ref, Path dest, boolean noT5) throws HubException {
        if (Files.exists(dest) && !isEmptyDir(dest)) {
            throw new HubException(HubException.Kind.EXISTS, dest + " already exists; it is used as it is"
                    + " (remove it to download again, or choose another --dest)");
        }
        ModelFiles files = ModelFiles.select(ref, client.listFiles(ref), noT5);
        Path staging = stagingFor(dest);
        long staged = 0;
        for (HubFile f : files.files()) {
            staged += stagedBytes(staging, f);
        }
        Plan plan = new Plan(ref, dest, files, staged);
        checkSpace(staging, plan.bytesToFetch());
        return plan;
    }

    private static long stagedBytes(Path staging, HubFile f) {
        try {
            Path done = staging.resolve(f.path());
            if (Files.isRegularFile(done) && Files.size(done) == f.size()) {
                return f.size();
            }
            Path part = partOf(done);
            if (f.isLfs() && Files.isRegularFile(part) && Files.size(part) <= f.size()) {
                return Files.size(part);
            }
        } catch (IOException ignored) {
            // unreadable leftovers are fetched again
        }
        return 0;
    }

    static void checkSpace(Path staging, long needed) throws HubException {
        Path existing = staging.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return;
        }
        try {
            FileStore store = Files.getFileStore(existing);
            long free = store.getUsableSpace();
            if (free < needed + DISK_MARGIN) {
                throw new HubException(HubException.Kind.DISK_SPACE, "not enough disk space in " + existing + ": the"
                        + " download needs " + Sizes.human(needed) + ", " + Sizes.human(free) + " is free; free some"
                        + " space or choose a folder on another drive (--dest)");
            }
        } catch (IOException e) {
            // a file system that cannot report its space is not a reason to refuse
        }
    }

    /** Fetches and verifies every file, then moves the finished folder into place and returns it. */
    public Path download(Plan plan, DownloadControl control, Consumer<DownloadProgress> listener) throws HubException {
        Path staging = stagingFor(plan.dest());
        Progress progress = new Progress(plan.files().totalBytes(), listener);
        try {
            Files.createDirectories(staging);
            Map<String, Long> staged = new HashMap<>();
            for (HubFile f : plan.files().files()) {
                staged.put(f.path(), stagedBytes(staging, f));
            }
            progress.done = staged.values().stream().mapToLong(Long::longValue).sum();
            for (HubFile f : plan.files().files()) {
                // ModelFiles.select let only relative names that stay inside through
                Path target = staging.resolve(f.path());
                if (Files.isRegularFile(target) && Files.size(target) == f.size()) {
                    continue;
                }
                fetchVerified(plan.ref(), f, target, control, progress);
            }
            moveIntoPlace(staging, plan.dest());
        } catch (HubException e) {
            if (e.kind() == HubException.Kind.CANCELLED && control.isCancelled()) {
                AtomicFiles.deleteTreeQuietly(staging);
            }
            throw e;
        } catch (IOException e) {
            throw new HubException(HubException.Kind.IO, "writing the download to " + staging + " failed: "
                    + HubClient.describe(e) + "; check the folder is writable and has space", e);
        }
        progress.emit(DownloadProgress.State.DONE, "", null);
        return plan.dest();
    }

    private void fetchVerified(RepoRef ref, HubFile f, Path target, DownloadControl control, Progress progress)
            throws HubException, IOException {
        Files.createDirectories(target.getParent());
        Path part = partOf(target);
        java.util.Optional<ContentHash> expected = f.expectedHash();
        for (int round = 0; ; round++) {
            byte[] digest = fetch(ref, f, part, control, progress);
            if (expected.isEmpty() || expected.get().matches(digest)) {
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                if (expected.isEmpty()) {
                    progress.emit(DownloadProgress.State.UNVERIFIED, f.path(), "installed unverified: the Hub's file list"
                            + " gives no hash for it");
                }
                return;
            }
            long wrong = Files.size(part);
            Files.deleteIfExists(part);
            progress.done -= wrong;
            if (round >= 1) {
                throw new HubException(HubException.Kind.HASH_MISMATCH, f.path() + " of " + ref + " failed its "
                        + expected.get().algorithm().label() + " check twice (expected " + expected.get().hex() + ", got "
                        + HexFormat.of().formatHex(digest) + "); it was discarded and nothing was installed."
                        + " The file on the server may be damaged; try again later");
            }
            // a corrupted resume is worth one fresh attempt before giving up
        }
    }

    /** Brings {@code part} to the file's full size and returns the digest of its whole content. */
    private byte[] fetch(RepoRef ref, HubFile f, Path part, DownloadControl control, Progress progress)
            throws HubException, IOException {
        MessageDigest md = digestFor(f);
        long have = 0;
        if (f.isLfs() && Files.isRegularFile(part) && Files.size(part) <= f.size()) {
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
            control.checkpoint(() -> progress.emit(DownloadProgress.State.PAUSED, f.path(), null));
            long before = have;
            try (HubClient.Download d = client.open(ref, f.path(), have)) {
                control.attach(d);
                if (d.start() != have) {
                    // the server ignored the range and sends the whole file: start over
                    progress.done -= have;
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
                    throw new HubException(HubException.Kind.NETWORK, "downloading " + f.path() + " of " + ref
                            + " keeps failing (" + e.getMessage() + "); what was fetched is kept: run the same pull"
                            + " again to resume", e);
                }
                Duration wait = firstBackoff.multipliedBy(1L << Math.min(failures - 1, 5));
                progress.emit(DownloadProgress.State.RETRYING, f.path(), "connection lost, retrying in "
                        + Sizes.duration(wait) + " (" + shortReason(e) + ")");
                sleep(wait, control);
            } finally {
                control.detach();
            }
        }
        progress.emit(DownloadProgress.State.VERIFYING, f.path(), null);
        return md.digest();
    }

    private long copy(InputStream in, Path part, long have, HubFile f, MessageDigest md, DownloadControl control,
                      Progress progress) throws IOException {
        byte[] buf = new byte[BUFFER];
        Watchdog watchdog = new Watchdog(in, stallTimeout);
        try (OutputStream out = Files.newOutputStream(part, StandardOpenOption.APPEND)) {
            int n;
            while (have < f.size() && (n = in.read(buf, 0, (int) Math.min(buf.length, f.size() - have))) > 0) {
                out.write(buf, 0, n);
                md.update(buf, 0, n);
                have += n;
                progress.done += n;
                watchdog.alive();
                progress.emitThrottled(f.path());
                if (control.isPaused() || control.isCancelled()) {
                    break;
                }
            }
        } finally {
            watchdog.stop();
        }
        return have;
    }

    private static MessageDigest digestFor(HubFile f) {
        // an unverified file is hashed too (nothing compares it), to keep one copy loop
        return f.expectedHash().map(ContentHash::algorithm).orElse(ContentHash.Algorithm.SHA256).start(f.size());
    }

    private static void update(MessageDigest md, InputStream in) throws IOException {
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

    private static String shortReason(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.length() > 80 ? m.substring(0, 80) + "…" : m;
    }

    static Path partOf(Path file) {
        return file.resolveSibling(file.getFileName() + ".part");
    }

    private static void moveIntoPlace(Path staging, Path dest) throws IOException, HubException {
        if (Files.exists(dest)) {
            if (!isEmptyDir(dest)) {
                throw new HubException(HubException.Kind.EXISTS, dest + " appeared while downloading; the finished"
                        + " download stays in " + staging);
            }
            Files.delete(dest);
        }
        Files.createDirectories(dest.toAbsolutePath().getParent());
        try {
            Files.move(staging, dest, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(staging, dest);
        }
    }

    private static boolean isEmptyDir(Path p) {
        if (!Files.isDirectory(p)) {
            return false;
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** Running totals and throttled reports to the listener. */
    private static final class Progress {
        private final long total;
        private final Consumer<DownloadProgress> listener;
        private final TransferRate rate = new TransferRate();
        private long done;
        private long lastEmit;

        Progress(long total, Consumer<DownloadProgress> listener) {
            this.total = total;
            this.listener = listener;
        }

        void emitThrottled(String file) {
            long now = System.nanoTime();
            rate.update(done, now);
            if (now - lastEmit > 250_000_000L) {
                lastEmit = now;
                emit(DownloadProgress.State.DOWNLOADING, file, null);
            }
        }

        void emit(DownloadProgress.State state, String file, String note) {
            if (state == DownloadProgress.State.PAUSED) {
                rate.reset();
            }
            listener.accept(new DownloadProgress(state, file, done, total, rate.bytesPerSecond(),
                    rate.eta(total - done), note));
        }
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
