package dev.sd3studio.app.hub;

/**
 * One file of a repository as the tree listing describes it. {@code sha256} is set for LFS files
 * (the LFS object id is the SHA-256 of the content); {@code gitOid} is the git blob id, which for
 * a non-LFS file is the SHA-1 of {@code "blob <size>\0" + content}.
 */
public record HubFile(String path, long size, String sha256, String gitOid) {
    public boolean isLfs() {
        return sha256 != null;
    }
}
