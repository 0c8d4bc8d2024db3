package dev.sd3studio.engine.api;

/**
 * A failure the user can act on. The message names the problem and what to do about it, and is
 * meant to be shown as it is; {@link #kind()} lets a UI choose an icon or an action.
 */
public class EngineException extends Exception {
    /** What went wrong, coarsely, for UIs that react differently. */
    public enum Kind {
        MODEL_NOT_FOUND,
        MISSING_COMPONENT,
        UNKNOWN_LAYOUT,
        CORRUPT_FILE,
        INCOMPATIBLE_MODEL,
        INVALID_REQUEST,
        BAD_IMAGE,
        NUMERIC_OVERFLOW,
        OUT_OF_MEMORY,
        DEVICE_UNAVAILABLE,
        CANCELLED,
        IO,
        INTERNAL
    }

    private final Kind kind;

    public EngineException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public EngineException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static EngineException invalid(String message) {
        return new EngineException(Kind.INVALID_REQUEST, message);
    }
}
