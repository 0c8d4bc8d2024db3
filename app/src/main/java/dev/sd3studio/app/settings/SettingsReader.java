package dev.sd3studio.app.settings;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code settings.json} field by field, so a damaged field or a cut-off end costs only what
 * is damaged: every field that can be read keeps its value, every other one its default, and the
 * names of the lost ones are reported.
 */
final class SettingsReader {
    /** The settings as far as they could be read; {@code lost} names what fell back to defaults. */
    record Outcome(Settings settings, List<String> lost) {
        boolean damaged() {
            return !lost.isEmpty();
        }
    }

    private final ObjectMapper json;
    private Runnable undoLast = () -> { };

    SettingsReader(ObjectMapper json) {
        this.json = json;
    }

    Outcome read(byte[] bytes) {
        List<String> lost = new ArrayList<>();
        ObjectNode fields = readableFields(bytes, lost);
        Settings s = component(fields, Settings.class, Settings.defaults(), "", lost);
        return new Outcome(validPaths(s, lost), List.copyOf(lost));
    }

    /**
     * The fields up to the first point where the file stops being JSON, nested objects and arrays
     * included: a file cut off inside {@code parameters} keeps the parameters before the cut.
     */
    private ObjectNode readableFields(byte[] bytes, List<String> lost) {
        ObjectNode fields = json.createObjectNode();
        try (JsonParser p = json.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                lost.add("everything (the file is not a settings object)");
                return fields;
            }
            readObject(p, fields);
        } catch (IOException | RuntimeException e) {
            // a number or word right before a cut may itself be cut ("steps": 28 -> 2): not trusted
            undoLast.run();
            lost.add("the setting at the damage and everything after it (the file is cut off or damaged)");
        }
        return fields;
    }

    /** Fills {@code into} as far as the file goes; what was read before a failure stays there. */
    private void readObject(JsonParser p, ObjectNode into) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            if (t == JsonToken.START_OBJECT) {
                readObject(p, into.putObject(name));
            } else if (t == JsonToken.START_ARRAY) {
                readArray(p, into.putArray(name));
            } else {
                into.set(name, p.readValueAsTree());
                undoLast = () -> into.remove(name);
            }
        }
        if (p.currentToken() != JsonToken.END_OBJECT) {
            throw new IOException("the object does not end");
        }
    }

    private void readArray(JsonParser p, ArrayNode into) throws IOException {
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t == null) {
                throw new IOException("the array does not end");
            }
            if (t == JsonToken.START_OBJECT) {
                readObject(p, into.addObject());
            } else if (t == JsonToken.START_ARRAY) {
                readArray(p, into.addArray());
            } else {
                into.add((JsonNode) p.readValueAsTree());
                int last = into.size() - 1;
                undoLast = () -> into.remove(last);
            }
        }
    }

    /** Builds record {@code type} from {@code node}, one component at a time. */
    private <R extends Record> R component(JsonNode node, Class<R> type, R defaults, String prefix, List<String> lost) {
        RecordComponent[] parts = type.getRecordComponents();
        Object[] values = new Object[parts.length];
        Class<?>[] types = new Class<?>[parts.length];
        for (int i = 0; i < parts.length; i++) {
            RecordComponent c = parts[i];
            types[i] = c.getType();
            Object fallback = get(c, defaults);
            JsonNode v = node.get(c.getName());
            values[i] = v == null || v.isNull() ? fallback : value(v, c, fallback, prefix + c.getName(), lost);
        }
        try {
            return type.getDeclaredConstructor(types).newInstance(values);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build " + type.getSimpleName(), e);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Object value(JsonNode v, RecordComponent c, Object fallback, String name, List<String> lost) {
        if (c.getType().isRecord()) {
            if (!v.isObject()) {
                lost.add(name);
                return fallback;
            }
            return component(v, (Class) c.getType(), (Record) fallback, name + ".", lost);
        }
        try {
            JavaType t = json.getTypeFactory().constructType(c.getGenericType());
            Object out = json.treeToValue(v, t);
            return out == null ? fallback : out;
        } catch (IOException | IllegalArgumentException e) {
            lost.add(name);
            return fallback;
        }
    }

    private static Object get(RecordComponent c, Record from) {
        try {
            return c.getAccessor().invoke(from);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Folders the platform cannot name (a NUL character, say) would stop the studio from starting. */
    private static Settings validPaths(Settings s, List<String> lost) {
        String output = s.outputFolder();
        if (output != null && !isPath(output)) {
            lost.add("outputFolder (not a valid path)");
            output = null;
        }
        List<String> folders = s.modelFolders().stream().filter(SettingsReader::isPath).toList();
        if (folders.size() != s.modelFolders().size()) {
            lost.add("modelFolders (" + (s.modelFolders().size() - folders.size()) + " not a valid path)");
        }
        List<String> loraFolders = s.loraFolders().stream().filter(SettingsReader::isPath).toList();
        if (loraFolders.size() != s.loraFolders().size()) {
            lost.add("loraFolders (" + (s.loraFolders().size() - loraFolders.size()) + " not a valid path)");
        }
        return new Settings(s.window(), s.theme(), folders, s.selectedModel(), output, s.parameters(),
                s.promptHistory(), s.export(), s.loras(), loraFolders);
    }

    private static boolean isPath(String s) {
        try {
            Path.of(s);
            return !s.isBlank();
        } catch (InvalidPathException e) {
            return false;
        }
    }
}
