package dev.sd3studio.app.studio.vm;

import dev.sd3studio.engine.api.EngineException;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Turns failures into messages that say what to do; the stack trace goes only to "details". */
final class ErrorMessages {
    private ErrorMessages() {
    }

    static UserMessage of(Throwable e) {
        String details = trace(e);
        if (e instanceof EngineException ee) {
            String hint = switch (ee.kind()) {
                case OUT_OF_MEMORY -> " Try turning on “Offload models” or “Drop T5 encoder”, or choose a smaller size.";
                case DEVICE_UNAVAILABLE -> " Choose CPU under Device, or install the GPU runtime.";
                case MISSING_COMPONENT, MODEL_NOT_FOUND, UNKNOWN_LAYOUT, CORRUPT_FILE, INCOMPATIBLE_MODEL ->
                        " Pick a complete model folder under Model (check-model lists what each folder lacks).";
                case NUMERIC_OVERFLOW -> " No image was saved. Try fewer steps, another seed, or the CPU.";
                default -> "";
            };
            UserMessage.Severity s = ee.kind() == EngineException.Kind.CANCELLED
                    ? UserMessage.Severity.INFO : UserMessage.Severity.ERROR;
            return new UserMessage(s, ee.getMessage() + hint, details);
        }
        if (e instanceof OutOfMemoryError) {
            return new UserMessage(UserMessage.Severity.ERROR, "Java ran out of memory. Turn on “Offload models”,"
                    + " choose a smaller size, or start with a larger -Xmx.", details);
        }
        if (e instanceof java.io.IOException) {
            return new UserMessage(UserMessage.Severity.ERROR, "Could not write or read a file: " + e.getMessage()
                    + ". Check that the output folder exists and is writable.", details);
        }
        return new UserMessage(UserMessage.Severity.ERROR, "Unexpected error: " + e
                + ". The studio keeps running; use “Copy details” to report it.", details);
    }

    private static String trace(Throwable e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        return w.toString();
    }
}
