package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.LoraSpec;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The generation parameters as PNG text chunks: {@code parameters} in the format most SD tools
 * read (prompt, "Negative prompt:" line, then "Key: value" pairs) and {@code sd3studio} with
 * the same facts as key=value lines that this app reads back exactly.
 */
public final class PngMetadata {
    public static final String PARAMETERS = "parameters";
    public static final String OURS = "sd3studio";

    private PngMetadata() {
    }

    /** Parameters of image {@code index} of a batch (its own prompt). */
    public static Map<String, String> of(GenerationRequest r, int index, String modelName) {
        int prompt = index / r.imagesPerPrompt();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("prompt", r.prompts().get(prompt));
        putIf(m, "prompt_2", pick(r.prompts2(), prompt));
        putIf(m, "prompt_3", pick(r.prompts3(), prompt));
        putIf(m, "negative_prompt", pick(r.negatives(), prompt));
        putIf(m, "negative_prompt_2", pick(r.negatives2(), prompt));
        putIf(m, "negative_prompt_3", pick(r.negatives3(), prompt));
        m.put("steps", Integer.toString(r.steps()));
        m.put("guidance", fmt(r.guidance()));
        if (r.shift() != null) {
            m.put("shift", fmt(r.shift()));
        }
        m.put("width", Integer.toString(r.width()));
        m.put("height", Integer.toString(r.height()));
        if (r.seed() != null) {
            m.put("seed", Long.toString(r.seed()));
            m.put("batch_index", Integer.toString(index));
        }
        m.put("max_sequence_length", Integer.toString(r.maxSequenceLength()));
        if (r.clipSkip() != null) {
            m.put("clip_skip", Integer.toString(r.clipSkip()));
        }
        if (r.dropT5()) {
            m.put("drop_t5", "true");
        }
        if (r.isImageToImage()) {
            m.put("strength", fmt(r.strength()));
        }
        if (r.isInpainting()) {
            m.put("mask", MaskCodec.encode(r.mask()));
            if (r.keepUnmasked()) {
                m.put("keep_unmasked", "true");
            }
        }
        m.put("model", modelName);
        if (!r.loras().isEmpty()) {
            // Full paths with scales, one a line, so the picture can be made again with the same files.
            m.put("loras", r.loras().stream().map(l -> l.file().toAbsolutePath() + ":" + LoraSpec.formatScale(l.scale()))
                    .collect(java.util.stream.Collectors.joining("\n")));
        }
        return m;
    }

    private static String pick(java.util.List<String> list, int i) {
        if (list.isEmpty()) {
            return null;
        }
        return list.size() == 1 ? list.get(0) : list.get(i);
    }

    private static void putIf(Map<String, String> m, String key, String value) {
        if (value != null) {
            m.put(key, value);
        }
    }

    static String fmt(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.1f", v) : Double.toString(v);
    }

    /** The widely read "parameters" text. */
    public static String parametersText(Map<String, String> m) {
        StringBuilder s = new StringBuilder(m.getOrDefault("prompt", ""));
        if (m.containsKey("negative_prompt") && !m.get("negative_prompt").isEmpty()) {
            s.append("\nNegative prompt: ").append(m.get("negative_prompt"));
        }
        s.append("\nSteps: ").append(m.get("steps"))
                .append(", Sampler: Euler (flow matching), CFG scale: ").append(m.get("guidance"));
        if (m.containsKey("seed")) {
            s.append(", Seed: ").append(m.get("seed"));
        }
        s.append(", Size: ").append(m.get("width")).append('x').append(m.get("height"));
        if (m.containsKey("shift")) {
            s.append(", Shift: ").append(m.get("shift"));
        }
        if (m.containsKey("strength")) {
            s.append(", Denoising strength: ").append(m.get("strength"));
        }
        if (m.containsKey("mask")) {
            s.append(", Inpainting: ").append(m.containsKey("keep_unmasked") ? "masked area, original kept outside" : "masked area");
        }
        s.append(", Model: ").append(m.get("model"));
        if (m.containsKey("loras")) {
            s.append(", LoRAs: \"").append(m.get("loras").lines().map(PngMetadata::fileNameWithScale)
                    .collect(java.util.stream.Collectors.joining(", "))).append('"');
        }
        return s.toString();
    }

    private static String fileNameWithScale(String pathAndScale) {
        int slash = Math.max(pathAndScale.lastIndexOf('/'), pathAndScale.lastIndexOf('\\'));
        return pathAndScale.substring(slash + 1);
    }

    /** Our own chunk: one key=value a line, newlines in values escaped. */
    public static String encode(Map<String, String> m) {
        StringBuilder s = new StringBuilder();
        m.forEach((k, v) -> s.append(k).append('=').append(v.replace("\\", "\\\\").replace("\n", "\\n")
                .replace("\r", "\\r")).append('\n'));
        return s.toString();
    }

    public static Map<String, String> decode(String text) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), unescape(line.substring(eq + 1)));
            }
        }
        return m;
    }

    private static String unescape(String v) {
        StringBuilder out = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '\\' && i + 1 < v.length()) {
                char n = v.charAt(++i);
                out.append(n == 'n' ? '\n' : n == 'r' ? '\r' : n);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
