package dev.sd3studio.app.gallery;

import java.nio.file.Path;
import java.util.Map;

/** One generated picture on disk with the parameters read from (or written to) its PNG chunks. */
public record GalleryItem(Path file, Map<String, String> parameters) {
    public GalleryItem {
        parameters = Map.copyOf(parameters);
    }

    public String prompt() {
        return parameters.getOrDefault("prompt", "");
    }

    /** One line for tooltips and accessible text. */
    public String summary() {
        return prompt() + " — " + parameters.getOrDefault("width", "?") + "×" + parameters.getOrDefault("height", "?")
                + ", " + parameters.getOrDefault("steps", "?") + " steps, seed " + parameters.getOrDefault("seed", "?");
    }
}
