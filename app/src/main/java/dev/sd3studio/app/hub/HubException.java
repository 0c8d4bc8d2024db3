package dev.sd3studio.app.hub;

/** A download problem, with a one-line message that says what to do. */
public final class HubException extends Exception {
    public enum Kind {
        AUTH, NOT_FOUND, NOT_A_MODEL, NETWORK, HASH_MISMATCH, DISK_SPACE, IO, CANCELLED, EXISTS,
        /** The listing gives no SHA-256 for a large (LFS) file, so it could not be verified. */
        NO_HASH
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
