package dev.sd3studio.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.sd3studio.engine.api.EngineException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the JSON files of a model folder; a broken file is named in the message. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    public static JsonNode read(Path file) throws EngineException {
        try {
            return MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.CORRUPT_FILE,
                    file + " is not valid JSON (" + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + "); restore it from the model download.", e);
        }
    }

    /** The file's JSON, or a missing node when the file does not exist. */
    public static JsonNode readIfPresent(Path file) throws EngineException {
        return Files.isRegularFile(file) ? read(file) : MissingNode.getInstance();
    }

    public static double number(JsonNode node, String field, double fallback) {
        JsonNode v = node.path(field);
        return v.isNumber() ? v.asDouble() : fallback;
    }

    public static int integer(JsonNode node, String field, int fallback) {
        JsonNode v = node.path(field);
        return v.isNumber() ? v.asInt() : fallback;
    }

    /**
     * An integer field that must lie in {@code [min, max]} when present: a value outside would only
     * fail later as an internal error (a division by zero, an overflowing shift).
     */
    public static int integerWithin(JsonNode node, String field, int fallback, int min, int max, Object file)
            throws EngineException {
        JsonNode v = node.path(field);
        if (!v.isNumber()) {
            return fallback;
        }
        if (!v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw new EngineException(EngineException.Kind.CORRUPT_FILE, file + " sets " + field + " to " + v.asText()
                    + ", outside what an SD3 model uses (" + min + " to " + max + "; " + fallback
                    + " is usual); restore it from the model download.");
        }
        return v.asInt();
    }
}
