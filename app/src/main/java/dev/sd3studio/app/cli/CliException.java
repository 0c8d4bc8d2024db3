package dev.sd3studio.app.cli;

/** A command-line problem with a message for the user and the exit code to end with. */
final class CliException extends Exception {
    private final int exitCode;

    CliException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
