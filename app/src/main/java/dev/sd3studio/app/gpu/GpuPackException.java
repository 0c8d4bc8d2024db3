package dev.sd3studio.app.gpu;

/** A GPU pack problem with a one-line message that says what to do. */
public final class GpuPackException extends Exception {
    public GpuPackException(String message) {
        super(message);
    }

    public GpuPackException(String message, Throwable cause) {
        super(message, cause);
    }
}
