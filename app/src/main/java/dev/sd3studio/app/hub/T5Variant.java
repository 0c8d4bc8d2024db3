package dev.sd3studio.app.hub;

import java.util.Locale;
import java.util.Optional;

/**
 * Which T5-XXL encoder a checkpoint pull fetches from Stability AI's {@code text_encoders/} folder.
 * fp8 is the default: half the download and half the memory its stored weights take (the engine
 * keeps weights as stored and widens them as they are used), for a small loss of precision in the
 * one encoder that runs once per picture; fp16 is the exact one; none leaves T5 out (Drop T5).
 */
public enum T5Variant {
    FP16("fp16", "t5xxl_fp16.safetensors"),
    FP8("fp8", "t5xxl_fp8_e4m3fn.safetensors"),
    NONE("none", null);

    private final String label;
    private final String fileName;

    T5Variant(String label, String fileName) {
        this.label = label;
        this.fileName = fileName;
    }

    /** How the CLI and the studio write it: fp16, fp8 or none. */
    public String label() {
        return label;
    }

    /** The file's name in {@code text_encoders/}; empty for {@link #NONE}. */
    public Optional<String> fileName() {
        return Optional.ofNullable(fileName);
    }

    /** Parses fp16, fp8 or none (any case). */
    public static T5Variant parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        for (T5Variant v : values()) {
            if (v.label.equals(t)) {
                return v;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a T5 choice; use fp16, fp8 or none");
    }

    @Override
    public String toString() {
        return label;
    }
}
