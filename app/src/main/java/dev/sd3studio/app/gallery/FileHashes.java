package dev.sd3studio.app.gallery;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SHA-256 of files, remembered by path, size and modification time: a LoRA of some hundred MB is
 * read once per session, not once per picture. Safe from any thread.
 */
public final class FileHashes {
    private static final FileHashes SHARED = new FileHashes();
    /** Far more LoRAs than anyone keeps; past it the memory simply starts over. */
    private static final int MAX_ENTRIES = 10_000;

    private record Key(Path file, long size, long modified) {
    }

    private final Map<Key, String> known = new ConcurrentHashMap<>();
    private final AtomicInteger reads = new AtomicInteger();

    /** The one the app uses, so the studio and the gallery share what they have read. */
    public static FileHashes shared() {
        return SHARED;
    }

    /** Lowercase hex SHA-256 of the file's content. */
    public String sha256(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        Key key = new Key(file.toAbsolutePath().normalize(), a.size(), a.lastModifiedTime().toMillis());
        String hash = known.get(key);
        if (hash == null) {
            hash = read(file);
            if (known.size() >= MAX_ENTRIES) {
                known.clear();
            }
            known.put(key, hash);
        }
        return hash;
    }

    /** How many files were read in full (not answered from memory). */
    int reads() {
        return reads.get();
    }

    private String read(Path file) throws IOException {
        reads.incrementAndGet();
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
        }
        return RecordedLora.hex(sha.digest());
    }
}
