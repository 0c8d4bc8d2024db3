package dev.sd3studio.app.hub;

import java.util.Optional;

/**
 * One file of a repository as the tree listing describes it. {@code lfs} says the listing gave it
 * an {@code lfs} record: its content is an LFS object whose id, {@code sha256}, is the SHA-256 of
 * the content. {@code gitOid} is the git blob id, which for a non-LFS file is the SHA-1 of
 * {@code "blob <size>\0" + content}. Either id is {@code null} when the listing omits it.
 */
public record HubFile(String path, long size, boolean lfs, String sha256, String gitOid) {
    public boolean isLfs() {
        return lfs;
    }

    /**
     * The hash the downloaded content must have, or empty when the listing gives none that fits
     * (an LFS file's git id names its pointer, not its content, so only its SHA-256 counts).
     */
    public Optional<ContentHash> expectedHash() {
        if (lfs) {
            return ContentHash.Algorithm.SHA256.fits(sha256) ? Optional.of(ContentHash.sha256(sha256)) : Optional.empty();
        }
        return ContentHash.Algorithm.GIT_BLOB_SHA1.fits(gitOid)
                ? Optional.of(new ContentHash(ContentHash.Algorithm.GIT_BLOB_SHA1, gitOid)) : Optional.empty();
    }
}
