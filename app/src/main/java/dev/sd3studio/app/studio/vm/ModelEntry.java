package dev.sd3studio.app.studio.vm;

import java.nio.file.Path;
import java.util.List;

/**
 * A model folder as the model picker lists it.
 *
 * @param missing what check-model reports as missing or unreadable; empty when usable
 */
public record ModelEntry(Path folder, String name, boolean builtIn, List<String> missing) {
    public ModelEntry {
        missing = List.copyOf(missing);
    }

    public boolean usable() {
        return missing.isEmpty();
    }

    @Override
    public String toString() {
        return (builtIn ? "Built-in: " : "") + name + (usable() ? "" : " — incomplete, missing " + String.join(", ", missing));
    }
}
