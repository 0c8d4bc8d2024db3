package dev.sd3studio.app.settings;

import dev.sd3studio.engine.api.SkipLayerGuidance;

import java.util.List;
import java.util.Map;

/**
 * Everything the studio restores at start. Unknown or missing fields fall back to
 * {@link #defaults()} so an older or hand-edited file never stops the app.
 *
 * @param theme "system", "light" or "dark"
 * @param loras each model folder's LoRA list, {@code FILE:SCALE} a line, in order
 * @param loraFolders the folders the user took LoRAs from: where a picture's recorded LoRAs are looked for
 */
public record Settings(Window window, String theme, List<String> modelFolders, String selectedModel,
                       String outputFolder, Parameters parameters, List<String> promptHistory, Export export,
                       Map<String, List<String>> loras, List<String> loraFolders) {

    /** The export panel's last choices; a null folder means the user's Pictures folder. */
    public record Export(String folder, String format, boolean metadata, double quality) {
        public static Export defaults() {
            return new Export(null, "PNG", true, 0.9);
        }
    }

    /** Window bounds and split positions. */
    public record Window(double x, double y, double width, double height, boolean maximized,
                         double leftDivider, double rightDivider) {
        public static Window defaults() {
            return new Window(Double.NaN, Double.NaN, 1280, 800, false, 0.32, 0.74);
        }
    }

    /** The last parameters, restored into the editor. */
    public record Parameters(String prompt, String negative, String prompt2, String prompt3, int width, int height,
                             int steps, double guidance, double shift, boolean randomSeed, long seed,
                             int imagesPerPrompt, String device, boolean offload, boolean dropT5,
                             int maxSequenceLength, double strength, Integer clipSkip, SkipLayers skipLayers,
                             String weights) {
        public static Parameters defaults() {
            return new Parameters("", "", "", "", 1024, 1024, 28, 7.0, 0, true, 0, 1, "cpu", false, false, 256, 0.6,
                    null, SkipLayers.defaults(), "stored");
        }

        /** @param weights stored, int8 or int4 (settings from before the choice existed: stored) */
        public Parameters {
            skipLayers = skipLayers == null ? SkipLayers.defaults() : skipLayers;
            weights = weights == null || weights.isBlank() ? "stored" : weights;
        }

        /** Parameters with the weights as stored. */
        public Parameters(String prompt, String negative, String prompt2, String prompt3, int width, int height,
                          int steps, double guidance, double shift, boolean randomSeed, long seed,
                          int imagesPerPrompt, String device, boolean offload, boolean dropT5,
                          int maxSequenceLength, double strength, Integer clipSkip, SkipLayers skipLayers) {
            this(prompt, negative, prompt2, prompt3, width, height, steps, guidance, shift, randomSeed, seed,
                    imagesPerPrompt, device, offload, dropT5, maxSequenceLength, strength, clipSkip, skipLayers, "stored");
        }
    }

    /**
     * The skip-layer guidance switch and its values; opening a different model puts its recommended
     * layers in, so {@code layers} is what the user last had for the model that was open.
     *
     * @param layers block numbers as typed, {@code 7,8,9}
     */
    public record SkipLayers(boolean on, String layers, double scale, double start, double stop) {
        public static SkipLayers defaults() {
            return new SkipLayers(false, "", SkipLayerGuidance.DEFAULT_SCALE, SkipLayerGuidance.DEFAULT_START,
                    SkipLayerGuidance.DEFAULT_STOP);
        }

        public SkipLayers {
            layers = layers == null ? "" : layers;
        }
    }

    public static Settings defaults() {
        return new Settings(Window.defaults(), "system", List.of(), null, null, Parameters.defaults(), List.of(),
                Export.defaults(), Map.of(), List.of());
    }

    /** Settings without remembered LoRA folders (besides those of the LoRA lists). */
    public Settings(Window window, String theme, List<String> modelFolders, String selectedModel, String outputFolder,
                    Parameters parameters, List<String> promptHistory, Export export, Map<String, List<String>> loras) {
        this(window, theme, modelFolders, selectedModel, outputFolder, parameters, promptHistory, export, loras, List.of());
    }

    public Settings {
        window = window == null ? Window.defaults() : window;
        theme = theme == null ? "system" : theme;
        modelFolders = modelFolders == null ? List.of() : List.copyOf(modelFolders);
        parameters = parameters == null ? Parameters.defaults() : parameters;
        promptHistory = promptHistory == null ? List.of() : List.copyOf(promptHistory);
        export = export == null ? Export.defaults() : export;
        loras = loras == null ? Map.of() : Map.copyOf(loras);
        loraFolders = loraFolders == null ? List.of() : List.copyOf(loraFolders);
    }
}
