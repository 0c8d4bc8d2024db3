package dev.sd3studio.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.model.Json;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The configs a checkpoint's graphs are built from, per diffusers folder name ({@code transformer},
 * {@code vae}, {@code text_encoder}, …, {@code scheduler}). A checkpoint file carries none, so each comes
 * from the first of: a config folder the user named, a {@code config/} folder beside the file, the diffusers
 * folder itself, or the built-in config of the recognised family (the released models' published values);
 * like diffusers' {@code from_single_file(config=…)}, a config folder is a diffusers folder without weights.
 */
public final class CheckpointConfigs {
    public static final String SCHEDULER = "scheduler";
    private static final List<String> FOLDERS = List.of("transformer", "vae", "text_encoder", "text_encoder_2",
            "text_encoder_3", SCHEDULER);

    /** One config and where it came from (a file, or "built-in SD3.5 Large"). */
    public record Entry(JsonNode json, String source) {
    }

    private final Map<String, Entry> entries;

    private CheckpointConfigs(Map<String, Entry> entries) {
        this.entries = Map.copyOf(entries);
    }

    /** {@code folders}: config folders in order of precedence, highest first. */
    static CheckpointConfigs resolve(List<Path> folders, Optional<ModelFamily> family) throws EngineException {
        Map<String, Entry> found = new LinkedHashMap<>();
        for (String name : FOLDERS) {
            String fileName = name.equals(SCHEDULER) ? "scheduler_config.json" : "config.json";
            for (Path folder : folders) {
                Path file = folder.resolve(name).resolve(fileName);
                if (Files.isRegularFile(file)) {
                    found.put(name, new Entry(Json.read(file), file.toString()));
                    break;
                }
            }
            if (!found.containsKey(name) && family.isPresent()) {
                found.put(name, new Entry(builtIn(family.get(), name), "built-in " + family.get().displayName()));
            }
        }
        return new CheckpointConfigs(found);
    }

    private static JsonNode builtIn(ModelFamily family, String name) throws EngineException {
        String resource = "families/" + (name.equals("transformer") ? family.configFolder() : "common") + "/" + name + ".json";
        try (InputStream in = CheckpointConfigs.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new EngineException(Kind.INTERNAL, "the built-in config " + resource + " is missing from SD3 Studio");
            }
            return Json.MAPPER.readTree(in);
        } catch (IOException e) {
            throw new EngineException(Kind.INTERNAL, "the built-in config " + resource + " cannot be read", e);
        }
    }

    public Optional<Entry> find(String folder) {
        return Optional.ofNullable(entries.get(folder));
    }

    public Optional<Entry> find(CheckpointComponent component) {
        return find(component.diffusersFolder());
    }

    /** The config of {@code component}, or a message saying where to put one. */
    public Entry require(CheckpointComponent component, Path checkpoint) throws EngineException {
        Entry e = entries.get(component.diffusersFolder());
        if (e == null) {
            throw new EngineException(Kind.UNKNOWN_LAYOUT, "SD3 Studio cannot tell which SD3 model " + checkpoint
                    + " is, so it does not know " + component.description() + "'s settings (head counts are in no"
                    + " tensor). Put the model's diffusers config files in a config/ folder beside it ("
                    + component.diffusersFolder() + "/config.json and the others), or name such a folder with --config.");
        }
        return e;
    }
}
