package dev.sd3studio.engine.runtime.quant;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * Quantized weights computed once and kept on disk, so that the second start maps them instead of
 * quantizing again. One entry per model file and setting, named after the file's path and the setting;
 * its header records the size and modification time of every source file it was made from (and the
 * SHA-256 of their content, streamed once when the entry is made), the weights it holds, and a CRC32C
 * of its own header and of its payload. An entry whose sources changed (stale) or whose bytes do not
 * match their checksums (damaged, half-written) is never used: it is rebuilt and replaced atomically.
 * <p>
 * Layout: magic, header length, header, header CRC32C; the payload starts at the next 64-byte boundary,
 * each tensor 64-byte aligned (ORT's kernels read them in place).
 */
public final class QuantCache {
    /** {@code -Dsd3studio.quant.cache=DIR} overrides where entries go. */
    public static final String DIR_PROPERTY = "sd3studio.quant.cache";
    private static final byte[] MAGIC = "SD3QNT01".getBytes(StandardCharsets.US_ASCII);
    private static final int ALIGN = 64;
    /** An entry no start has used for this long is deleted: its model is likely gone or no longer quantized. */
    static final java.time.Duration UNUSED_FOR = java.time.Duration.ofDays(30);
    /** A temporary file this old belongs to no running build (a build writes for minutes, not a day). */
    static final java.time.Duration ABANDONED_AFTER = java.time.Duration.ofDays(1);

    /** What happened when an entry was asked for. */
    public enum Outcome { REUSED, BUILT, REBUILT_STALE, REBUILT_DAMAGED, UNCACHED }

    /** One weight to quantize: its initializer name, layout, storage order and source. */
    public record Job(String name, BlockLayout layout, boolean kMajor, boolean halfScales, WeightSource source) {
        long scaleBytes() {
            return layout.scaleCount() * (halfScales ? 2 : 4);
        }
    }

    /** Reads a weight's values as float32 in their stored order. */
    @FunctionalInterface
    public interface WeightSource {
        float[] read() throws IOException;
    }

    private final Path dir;
    private final AtomicLong builds = new AtomicLong();
    private final AtomicLong reuses = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private volatile Outcome lastOutcome;

    public QuantCache(Path dir) {
        this.dir = dir;
    }

    /** {@value #DIR_PROPERTY}, else {@code $XDG_CACHE_HOME/sd3studio/quantized}, else {@code ~/.cache/sd3studio/quantized}. */
    public static Path defaultDir() {
        String property = System.getProperty(DIR_PROPERTY);
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("sd3studio").resolve("quantized");
    }

    public Path dir() {
        return dir;
    }

    /** Entries quantized and written by this cache (first starts, stale and damaged ones). */
    public long builds() {
        return builds.get();
    }

    /** Entries mapped as they were. */
    public long reuses() {
        return reuses.get();
    }

    /** Entries found stale or damaged and rebuilt. */
    public long rejected() {
        return rejected.get();
    }

    public Outcome lastOutcome() {
        return lastOutcome;
    }

    /** The entry file for {@code modelFile} at {@code settings}. */
    public Path entryFor(Path modelFile, QuantSettings settings) {
        return dir.resolve(sha256Hex((modelFile.toAbsolutePath().normalize() + "|" + settings.cacheKey())
                .getBytes(StandardCharsets.UTF_8)).substring(0, 32) + ".sd3q");
    }

    /**
     * The quantized {@code jobs} of {@code modelFile}, made from {@code sources} (the model file and its
     * external data files): mapped from a valid entry, else quantized now and stored first.
     */
    public QuantizedWeights load(Path modelFile, List<Path> sources, QuantSettings settings, List<Job> jobs)
            throws IOException {
        Files.createDirectories(dir);
        Path entry = entryFor(modelFile, settings);
        String expected = description(sources, settings, jobs);
        Outcome outcome = Outcome.BUILT;
        if (Files.exists(entry)) {
            QuantizedWeights found = tryOpen(entry, expected, jobs);
            if (found != null) {
                reuses.incrementAndGet();
                lastOutcome = Outcome.REUSED;
                markUsed(entry);
                prune(entry);
                return found;
            }
            outcome = isStale(entry, expected) ? Outcome.REBUILT_STALE : Outcome.REBUILT_DAMAGED;
            rejected.incrementAndGet();
        }
        Path temp = Files.createTempFile(dir, "building-", ".tmp");
        try {
            write(temp, expected, contentHash(sources), jobs);
            Files.move(temp, entry, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
            // Quantizing went through a float copy of each weight (up to 168 MB for T5-XXL's): the Java heap
            // grew by a gigabyte or more at full size and would stay that size, beside the session about to be
            // created. One collection here lets the collector give it back (a rare, minutes-long step).
            System.gc();
        }
        builds.incrementAndGet();
        lastOutcome = outcome;
        prune(entry);
        QuantizedWeights made = tryOpen(entry, expected, jobs);
        if (made == null) {
            throw new IOException("the quantized weights just written to " + entry + " do not read back");
        }
        return made;
    }

    /** The entry's modification time is its last use, which {@link #prune} goes by. */
    private static void markUsed(Path entry) {
        try {
            Files.setLastModifiedTime(entry, java.nio.file.attribute.FileTime.from(java.time.Instant.now()));
        } catch (IOException e) {
            // a read-only cache still works; its entries just look unused sooner
        }
    }

    /**
     * Deletes entries unused for {@link #UNUSED_FOR} and temporary files older than {@link #ABANDONED_AFTER}
     * (left by a process that was killed while quantizing), never {@code keep}. Entries are gigabytes at full
     * size (SD3.5 Large at int8: 8 GB), and nothing else ever removes one whose model was deleted or moved.
     * A file another process still maps stays readable to it on Linux; where it cannot be deleted it is left.
     *
     * @return how many files were deleted
     */
    int prune(Path keep) {
        java.time.Instant now = java.time.Instant.now();
        int deleted = 0;
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                java.time.Duration limit = name.endsWith(".sd3q") ? UNUSED_FOR
                        : name.endsWith(".tmp") && (name.startsWith("building-") || name.startsWith("session-"))
                        ? ABANDONED_AFTER : null;
                try {
                    if (limit != null && !f.equals(keep)
                            && Files.getLastModifiedTime(f).toInstant().isBefore(now.minus(limit))
                            && Files.deleteIfExists(f)) {
                        deleted++;
                    }
                } catch (IOException e) {
                    // in use elsewhere or not ours to delete: left for the next start
                }
            }
        } catch (IOException e) {
            // an unlistable folder: nothing to prune
        }
        return deleted;
    }

    /**
     * Quantizes into a file that is deleted once mapped: for weights that exist only in memory (LoRA-merged),
     * which no later start could reuse.
     */
    public QuantizedWeights uncached(List<Job> jobs) throws IOException {
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "session-", ".tmp");
        try {
            write(temp, "uncached", "", jobs);
            lastOutcome = Outcome.UNCACHED;
            return tryOpen(temp, "uncached", jobs);
        } finally {
            Files.deleteIfExists(temp); // the mapping stays valid without the name
        }
    }

    /** Sizes and times of the sources, the setting and each weight's name and layout: what an entry must match. */
    private static String description(List<Path> sources, QuantSettings settings, List<Job> jobs) throws IOException {
        StringBuilder b = new StringBuilder(settings.cacheKey());
        for (Path s : sources) {
            BasicFileAttributes a = Files.readAttributes(s, BasicFileAttributes.class);
            b.append('\n').append(s.getFileName()).append(' ').append(a.size()).append(' ')
                    .append(a.lastModifiedTime().toMillis());
        }
        for (Job j : jobs) {
            b.append('\n').append(j.name()).append(' ').append(j.layout()).append(j.kMajor() ? " k" : " n")
                    .append(j.halfScales() ? " h" : " f");
        }
        return b.toString();
    }

    private static String contentHash(List<Path> sources) throws IOException {
        MessageDigest sha = sha256();
        byte[] buffer = new byte[1 << 20];
        for (Path s : sources) {
            try (InputStream in = Files.newInputStream(s)) {
                for (int r; (r = in.read(buffer)) > 0; ) {
                    sha.update(buffer, 0, r);
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void write(Path file, String description, String contentHash, List<Job> jobs) throws IOException {
        // offsets first: the header lists where each tensor will be
        long[][] at = new long[jobs.size()][3];
        long payload = 0;
        for (int i = 0; i < jobs.size(); i++) {
            Job j = jobs.get(i);
            long[] sizes = {j.layout().packedBytes(), j.scaleBytes(), j.layout().zeroPointBytes()};
            for (int t = 0; t < 3; t++) {
                at[i][t] = payload;
                payload = align(payload + sizes[t]);
            }
        }
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] headerWithoutCrc = header(description, contentHash, jobs, at, payload, 0);
            long payloadStart = align(MAGIC.length + 4 + headerWithoutCrc.length + 4);
            CRC32C crc = new CRC32C();
            long pos = payloadStart;
            for (int i = 0; i < jobs.size(); i++) {
                Job j = jobs.get(i);
                BlockLayout l = j.layout();
                BlockQuantizer.Blocks blocks = BlockQuantizer.quantize(j.source().read(), j.kMajor(), l);
                ByteBuffer packed = ByteBuffer.wrap(blocks.packed());
                ByteBuffer scales = j.halfScales() ? halves(blocks.scales()) : floats(blocks.scales());
                ByteBuffer zeroPoints = ByteBuffer.wrap(blocks.zeroPoints());
                ByteBuffer[] parts = {packed, scales, zeroPoints};
                for (int t = 0; t < 3; t++) {
                    pos = pad(out, crc, pos, payloadStart + at[i][t]);
                    crc.update(parts[t].duplicate());
                    pos += writeFully(out, parts[t], pos);
                }
            }
            pad(out, crc, pos, payloadStart + payload);
            byte[] header = header(description, contentHash, jobs, at, payload, crc.getValue());
            ByteBuffer head = ByteBuffer.allocate(Math.toIntExact(payloadStart)).order(ByteOrder.LITTLE_ENDIAN);
            head.put(MAGIC).putInt(header.length).put(header).putInt((int) crc(header));
            writeFully(out, head.rewind(), 0);
            out.force(true);
        }
    }

    private static byte[] header(String description, String contentHash, List<Job> jobs, long[][] at, long payload,
                                 long payloadCrc) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(description.length() > 20_000 ? sha256Hex(description.getBytes(StandardCharsets.UTF_8)) : description);
            out.writeUTF(contentHash);
            out.writeInt(jobs.size());
            for (int i = 0; i < jobs.size(); i++) {
                out.writeUTF(jobs.get(i).name());
                for (long a : at[i]) {
                    out.writeLong(a);
                }
            }
            out.writeLong(payload);
            out.writeLong(payloadCrc);
        }
        return bytes.toByteArray();
    }

    /** The entry mapped, or null when it is not exactly what {@code expected} describes with intact bytes. */
    private static QuantizedWeights tryOpen(Path entry, String expected, List<Job> jobs) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(entry, StandardOpenOption.READ)) {
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            Header h = readHeader(file);
            String want = expected.length() > 20_000 ? sha256Hex(expected.getBytes(StandardCharsets.UTF_8)) : expected;
            if (h == null || !h.description.equals(want) || h.names.size() != jobs.size()
                    || h.payloadStart + h.payload != file.byteSize()) {
                arena.close();
                return null;
            }
            CRC32C crc = new CRC32C();
            long chunk = 1 << 30;
            for (long p = 0; p < h.payload; p += chunk) {
                crc.update(file.asSlice(h.payloadStart + p, Math.min(chunk, h.payload - p)).asByteBuffer());
            }
            if (crc.getValue() != h.payloadCrc) {
                arena.close();
                return null;
            }
            List<QuantizedWeights.Weight> weights = new ArrayList<>();
            for (int i = 0; i < jobs.size(); i++) {
                Job j = jobs.get(i);
                if (!j.name().equals(h.names.get(i))) {
                    arena.close();
                    return null;
                }
                long[] at = h.offsets.get(i);
                weights.add(new QuantizedWeights.Weight(j.name(), j.layout(), j.halfScales(),
                        slice(file, h.payloadStart + at[0], j.layout().packedBytes()),
                        slice(file, h.payloadStart + at[1], j.scaleBytes()),
                        slice(file, h.payloadStart + at[2], j.layout().zeroPointBytes())));
            }
            file.unload(); // the check read every page: leave them to the page cache until ORT reads them
            return new QuantizedWeights(arena, file, weights);
        } catch (IOException | RuntimeException e) {
            arena.close();
            return null; // unreadable counts as damaged
        }
    }

    /** Whether the entry is intact but made from other sources or settings (else it is damaged). */
    private static boolean isStale(Path entry, String expected) {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(entry, StandardOpenOption.READ)) {
            Header h = readHeader(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
            return h != null && !h.description.equals(expected);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private record Header(String description, List<String> names, List<long[]> offsets, long payload, long payloadCrc,
                          long payloadStart) {
    }

    private static Header readHeader(MemorySegment file) throws IOException {
        if (file.byteSize() < MAGIC.length + 8) {
            return null;
        }
        // only the header is wrapped: an entry of a full-size model is larger than a ByteBuffer can be
        ByteBuffer start = file.asSlice(0, MAGIC.length + 4).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        start.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            return null;
        }
        int length = start.getInt();
        if (length < 0 || length > file.byteSize() - MAGIC.length - 8) {
            return null;
        }
        ByteBuffer b = file.asSlice(MAGIC.length + 4, length + 4L).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] header = new byte[length];
        b.get(header);
        if ((int) crc(header) != b.getInt()) {
            return null;
        }
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(header))) {
            String description = in.readUTF();
            in.readUTF(); // content hash: provenance only
            int count = in.readInt();
            List<String> names = new ArrayList<>();
            List<long[]> offsets = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                names.add(in.readUTF());
                offsets.add(new long[] {in.readLong(), in.readLong(), in.readLong()});
            }
            long payload = in.readLong();
            long payloadCrc = in.readLong();
            return new Header(description, names, offsets, payload, payloadCrc,
                    align(MAGIC.length + 4 + length + 4));
        }
    }

    private static ByteBuffer slice(MemorySegment file, long at, long bytes) {
        return file.asSlice(at, bytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer halves(float[] values) {
        ByteBuffer out = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            out.putShort(Float.floatToFloat16(v));
        }
        return out.flip();
    }

    private static ByteBuffer floats(float[] values) {
        ByteBuffer out = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        out.asFloatBuffer().put(values);
        return out;
    }

    private static long pad(FileChannel out, CRC32C crc, long pos, long to) throws IOException {
        if (to > pos) {
            ByteBuffer zeros = ByteBuffer.allocate(Math.toIntExact(to - pos));
            crc.update(zeros.duplicate());
            writeFully(out, zeros, pos);
        }
        return Math.max(pos, to);
    }

    private static long writeFully(FileChannel out, ByteBuffer b, long at) throws IOException {
        long written = 0;
        while (b.hasRemaining()) {
            written += out.write(b, at + written);
        }
        return written;
    }

    private static long align(long v) {
        return (v + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static long crc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return c.getValue();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256Hex(byte[] b) {
        return HexFormat.of().formatHex(sha256().digest(b));
    }
}
