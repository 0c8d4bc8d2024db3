package dev.sd3studio.engine.api;

import java.nio.file.Path;
import java.util.Locale;

/**
 * A LoRA to merge into the model for a generation, with its strength (1.0 = as trained; 0 = off).
 * {@code FILE[:SCALE]} is how the command line and the PNG metadata write it.
 */
public record LoraSpec(Path file, double scale) {
    public static final double DEFAULT_SCALE = 1.0;

    /** {@code FILE} or {@code FILE:SCALE}; a colon not followed by a number belongs to the path (C:\…). */
    public static LoraSpec parse(String text) throws EngineException {
        int colon = text.lastIndexOf(':');
        if (colon > 0) {
            String tail = text.substring(colon + 1);
            try {
                double scale = Double.parseDouble(tail);
                if (!Double.isFinite(scale)) {
                    throw EngineException.invalid("LoRA scale must be a finite number (got '" + tail + "' in '" + text + "').");
                }
                return new LoraSpec(Path.of(text.substring(0, colon)), scale);
            } catch (NumberFormatException notANumber) {
                if (tail.matches("[-+.0-9eE]+")) {
                    throw EngineException.invalid("LoRA scale '" + tail + "' in '" + text + "' is not a number; write FILE:0.8.");
                }
            }
        }
        if (text.isBlank()) {
            throw EngineException.invalid("--lora needs a file: --lora FILE[:SCALE].");
        }
        return new LoraSpec(Path.of(text), DEFAULT_SCALE);
    }

    /** {@code name.safetensors:0.8}, as recorded in the PNG metadata. */
    public String describe() {
        Path name = file.getFileName();
        return (name == null ? file.toString() : name.toString()) + ":" + formatScale(scale);
    }

    public static String formatScale(double scale) {
        return scale == Math.rint(scale) && Math.abs(scale) < 1e6
                ? String.format(Locale.ROOT, "%.1f", scale) : Double.toString(scale);
    }
}
