package dev.sd3studio.engine.api;

import java.nio.file.Path;
import java.util.List;

/**
 * What a look at a model folder found, part by part: what {@code check-model} prints and what the
 * studio shows for a folder that is not a complete model. {@code usable} when every required part
 * is found.
 */
public record ModelReport(Path root, String layout, List<Part> parts, List<String> notes) {
    public enum Status { FOUND, MISSING, UNREADABLE }

    /** One component's findings: its format, size, inputs and outputs, or the problem met reading it. */
    public record Part(String name, String description, boolean required, Status status, String format,
                       long bytes, List<String> inputs, List<String> outputs, String problem) {
    }

    public boolean usable() {
        return parts.stream().noneMatch(p -> p.required() && p.status() != Status.FOUND);
    }

    public List<String> missingRequired() {
        return parts.stream().filter(p -> p.required() && p.status() != Status.FOUND)
                .map(p -> p.name() + " (" + p.status().name().toLowerCase() + ")").toList();
    }
}
