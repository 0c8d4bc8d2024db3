package dev.sd3studio.app.hub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.regex.Pattern;

/**
 * The hash a downloaded file must have: a SHA-256 of the content (LFS objects, GPU archives) or a
 * git blob id, the SHA-1 of {@code "blob <size>\0" + content} (small files in a Hub repository).
 */
public record ContentHash(Algorithm algorithm, String hex) {
    public enum Algorithm {
        SHA256("SHA-256", Pattern.compile("[0-9a-fA-F]{64}")),
        GIT_BLOB_SHA1("git SHA-1", Pattern.compile("[0-9a-fA-F]{40}"));

        private final String label;
        private final Pattern form;

        Algorithm(String label, Pattern form) {
            this.label = label;
            this.form = form;
        }

        /** How messages name it. */
        public String label() {
            return label;
        }

        /** A fresh digest for content of {@code size} bytes (a git blob id hashes a header first). */
        public MessageDigest start(long size) {
            try {
                if (this == SHA256) {
                    return MessageDigest.getInstance("SHA-256");
                }
                MessageDigest md = MessageDigest.getInstance("SHA-1");
                md.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
                return md;
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("the JDK has no " + e.getMessage(), e);
            }
        }

        /** Whether {@code hex} is a hash of this kind at all (a listing may carry anything). */
        public boolean fits(String hex) {
            return hex != null && form.matcher(hex).matches();
        }
    }

    public ContentHash {
        if (!algorithm.fits(hex)) {
            throw new IllegalArgumentException("'" + hex + "' is not a " + algorithm.label());
        }
    }

    public static ContentHash sha256(String hex) {
        return new ContentHash(Algorithm.SHA256, hex);
    }

    /** The SHA-256 of a file's content, in hex. */
    public static String sha256Of(Path file) throws IOException {
        MessageDigest md = Algorithm.SHA256.start(0);
        try (InputStream in = Files.newInputStream(file)) {
            VerifiedDownload.update(md, in);
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    /** Whether {@code file} is already the verified content: right size and hash (a kept download reused). */
    public boolean matches(Path file, long size) throws IOException {
        if (!Files.isRegularFile(file) || Files.size(file) != size) {
            return false;
        }
        MessageDigest md = algorithm.start(size);
        try (InputStream in = Files.newInputStream(file)) {
            VerifiedDownload.update(md, in);
        }
        return matches(md.digest());
    }

    public boolean matches(byte[] digest) {
        return java.util.HexFormat.of().formatHex(digest).equalsIgnoreCase(hex);
    }
}
