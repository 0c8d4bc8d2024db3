package dev.sd3studio.app.hub;

/** A download problem, with a one-line message that says what to do. */
public final class HubException extends Exception {
    public enum Kind {
        AUTH, NOT_FOUND, NOT_A_MODEL, NETWORK, HASH_MISMATCH, DISK_SPACE, IO, CANCELLED, EXISTS,
        /** The listing gives no SHA-256 for a large (LFS) file, so it could not be verified. */
        NO_HASH,
        /** The listing names a file this app will not write: outside its folder, or invalid on some OS. */
        UNSAFE_NAME,
        /** A redirect or next-page link leads to something other than http(s), or to plain http from https. */
        BAD_REDIRECT,
        /** The listing is larger than any model repository, as a hostile endpoint's could be. */
        LISTING_TOO_LARGE
    }

    private final Kind kind;

    public HubException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public HubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
