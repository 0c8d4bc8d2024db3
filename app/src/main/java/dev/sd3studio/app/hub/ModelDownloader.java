package dev.sd3studio.app.hub;

import dev.sd3studio.engine.api.AtomicFiles;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Downloads the files a model needs into a hidden staging folder beside the destination, and
 * renames that folder to the destination only when every file is there and verified, so an
 * interrupted download never looks like a model. Each file is fetched by {@link VerifiedDownload}
 * ({@code NAME.part}, renamed once its hash matches); a later run (after a dropped connection, a
 * pause or a restart) keeps the verified files and resumes each {@code .part} with a range request.
 */
public final class ModelDownloader {
    private static final long DISK_MARGIN = 64L * 1024 * 1024;

    private final HubClient client;
    private final VerifiedDownload transfer;

    public ModelDownloader(HubClient client) {
        this(client, 6, Duration.ofSeconds(2), Duration.ofSeconds(60));
    }

    public ModelDownloader(HubClient client, int maxAttempts, Duration firstBackoff, Duration stallTimeout) {
        this.client = client;
        this.transfer = new VerifiedDownload(maxAttempts, firstBackoff, stallTimeout, "run the same pull again to resume");
    }

    /** What a pull will fetch: the checked file list, the bytes already staged and still to come. */
    public record Plan(RepoRef ref, Path dest, ModelFiles files, long bytesStaged) {
        public long bytesToFetch() {
            return files.totalBytes() - bytesStaged;
        }

        /** What to open once downloaded: {@code dest}, or the checkpoint file in it. */
        public Path modelPath() {
            return files.modelPath(dest);
        }
    }

    /** The folder a pull writes into until it is complete. */
    public static Path stagingFor(Path dest) {
        Path abs = dest.toAbsolutePath().normalize();
        return abs.resolveSibling("." + abs.getFileName() + ".partial");
    }

    /** Lists the repository, checks the ONNX layout and the disk space; fetches nothing large. */
    public Plan plan(RepoRef ref, Path dest, boolean noT5) throws HubException {
        return plan(ref, dest, ModelFiles.onnx(noT5));
    }

    /** Lists the repository, picks its files with {@code selector}, checks the disk space; fetches nothing large. */
    public Plan plan(RepoRef ref, Path dest, ModelFiles.Selector selector) throws HubException {
        if (Files.exists(dest) && !isEmptyDir(dest)) {
            throw new HubException(HubException.Kind.EXISTS, dest + " already exists; it is used as it is"
                    + " (remove it to download again, or choose another --dest)");
        }
        ModelFiles files = selector.select(ref, client.listFiles(ref));
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
        } catch (IOException ignored) {
            // unreadable leftovers are fetched again
        }
        return VerifiedDownload.partialBytes(staging.resolve(f.path()), f.size());
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
        TransferProgress progress = new TransferProgress(plan.files().totalBytes(), listener);
        try {
            Files.createDirectories(staging);
            Map<String, Long> staged = new HashMap<>();
            for (HubFile f : plan.files().files()) {
                staged.put(f.path(), stagedBytes(staging, f));
            }
            progress.add(staged.values().stream().mapToLong(Long::longValue).sum());
            for (HubFile f : plan.files().files()) {
                // the selector let only relative names that stay inside through (ModelFiles.checkNamesAndHashes)
                Path target = staging.resolve(f.path());
                if (Files.isRegularFile(target) && Files.size(target) == f.size()) {
                    continue;
                }
                RepoRef ref = plan.ref();
                transfer.fetch(new VerifiedDownload.Remote(f.path(), f.path() + " of " + ref,
                        offset -> client.open(ref, f.path(), offset), f.size(), f.expectedHash()), target, control, progress);
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
}
