package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.api.NoiseSlice;
import dev.sd3studio.engine.api.WeightPrecision;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
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

    /** Parameters of image {@code index} of a batch (its own prompt), made with the stored weights. */
    public static Map<String, String> of(GenerationRequest r, int index, String modelName) {
        return of(r, index, modelName, WeightPrecision.STORED);
    }

    /**
     * Parameters of image {@code index} of a batch (its own prompt); {@code weights} other than stored are
     * recorded, since quantized weights give a slightly different picture for the same seed.
     */
    public static Map<String, String> of(GenerationRequest r, int index, String modelName, WeightPrecision weights) {
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
            // seed + batch size + index reproduce this one picture: the batch's noise is one draw
            NoiseSlice slice = r.noiseSlice();
            m.put("seed", Long.toString(r.seed()));
            m.put("batch_size", Integer.toString(slice != null ? slice.batchSize() : r.batchSize()));
            m.put("batch_index", Integer.toString(slice != null ? slice.index() : index));
        }
        m.put("max_sequence_length", Integer.toString(r.maxSequenceLength()));
        if (r.clipSkip() != null) {
            m.put("clip_skip", Integer.toString(r.clipSkip()));
        }
        if (r.dropT5()) {
            m.put("drop_t5", "true");
        }
        if (r.isImageToImage()) {
            m.put("image_to_image", "true");
            m.put("strength", fmt(r.strength()));
        }
        if (r.isInpainting()) {
            m.put("mask", MaskCodec.encode(r.mask()));
            if (r.keepUnmasked()) {
                m.put("keep_unmasked", "true");
            }
        }
        m.put("model", modelName);
        if (weights != WeightPrecision.STORED) {
            m.put("weights", weights.name().toLowerCase(Locale.ROOT));
        }
        if (r.skipLayers().isOn()) {
            m.put("skip_layers", r.skipLayers().layerList());
            m.put("skip_layer_scale", fmt(r.skipLayers().scale()));
            m.put("skip_layer_start", fmt(r.skipLayers().start()));
            m.put("skip_layer_stop", fmt(r.skipLayers().stop()));
        }
        if (!r.loras().isEmpty()) {
            // Name, scale and SHA-256, one a line: enough to find the same files again among the
            // user's LoRA folders, without telling a picture's reader the maker's folders.
            m.put("loras", r.loras().stream().map(PngMetadata::recorded)
                    .collect(java.util.stream.Collectors.joining("\n")));
        }
        return m;
    }

    private static String recorded(LoraSpec lora) {
        String hash;
        try {
            hash = FileHashes.shared().sha256(lora.file());
        } catch (IOException | RuntimeException e) {
            hash = null; // gone since it was merged: the name and scale are still worth recording
        }
        Path name = lora.file().getFileName();
        return RecordedLora.line(name == null ? lora.file().toString() : name.toString(), lora.scale(), hash);
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
        if (isImageToImage(m)) {
            s.append(", Denoising strength: ").append(m.get("strength"));
        }
        if (m.containsKey("mask")) {
            s.append(", Inpainting: ").append(m.containsKey("keep_unmasked") ? "masked area, original kept outside" : "masked area");
        }
        if (!m.getOrDefault("batch_size", "1").strip().equals("1") && m.containsKey("batch_index")) {
            s.append(", Batch size: ").append(m.get("batch_size")).append(", Batch pos: ").append(m.get("batch_index"));
        }
        s.append(", Model: ").append(m.get("model"));
        if (m.containsKey("weights")) {
            s.append(", Weights: ").append(m.get("weights"));
        }
        if (m.containsKey("skip_layers")) {
            // quoted: the list's commas would otherwise split the "Key: value" pairs
            s.append(", Skip layers: \"").append(m.get("skip_layers")).append("\", SLG scale: ")
                    .append(m.get("skip_layer_scale")).append(", SLG start: ").append(m.get("skip_layer_start"))
                    .append(", SLG stop: ").append(m.get("skip_layer_stop"));
        }
        if (m.containsKey("loras")) {
            s.append(", LoRAs: \"").append(RecordedLora.parseAll(m.get("loras")).stream().map(RecordedLora::describe)
                    .collect(java.util.stream.Collectors.joining(", "))).append('"');
        }
        return s.toString();
    }

    /** Whether the picture was made from a start image (older files only recorded the strength). */
    public static boolean isImageToImage(Map<String, String> m) {
        return Boolean.parseBoolean(m.get("image_to_image")) || m.containsKey("strength");
    }

    /**
     * The text-to-image request that makes this picture again, alone: its prompts, sampler settings,
     * seed, and (for a picture of a batch) its slice of the batch's noise.
     *
     * @throws IllegalArgumentException naming the first missing or malformed entry
     */
    public static GenerationRequest.Builder request(Map<String, String> m) {
        GenerationRequest.Builder b = GenerationRequest.builder()
                .setPrompts(List.of(require(m, "prompt")))
                .optPrompts2(listOf(m, "prompt_2")).optPrompts3(listOf(m, "prompt_3"))
                .optNegatives(listOf(m, "negative_prompt")).optNegatives2(listOf(m, "negative_prompt_2"))
                .optNegatives3(listOf(m, "negative_prompt_3"))
                .optSize(intOf(m, "width"), intOf(m, "height"))
                .optSteps(intOf(m, "steps"))
                .optGuidance(Double.parseDouble(require(m, "guidance")))
                .optShift(m.containsKey("shift") ? Double.valueOf(m.get("shift")) : null)
                .optMaxSequenceLength(m.containsKey("max_sequence_length") ? intOf(m, "max_sequence_length")
                        : GenerationRequest.DEFAULT_MAX_SEQUENCE_LENGTH)
                .optClipSkip(m.containsKey("clip_skip") ? intOf(m, "clip_skip") : null)
                .optDropT5(Boolean.parseBoolean(m.get("drop_t5")))
                .optSeed(Long.parseLong(require(m, "seed")));
        if (m.containsKey("skip_layers")) {
            b.optSkipLayers(Arrays.stream(m.get("skip_layers").split(",")).map(String::strip).map(Integer::valueOf).toList())
                    .optSkipLayerScale(Double.parseDouble(require(m, "skip_layer_scale")))
                    .optSkipLayerStart(Double.parseDouble(require(m, "skip_layer_start")))
                    .optSkipLayerStop(Double.parseDouble(require(m, "skip_layer_stop")));
        }
        int size = m.containsKey("batch_size") ? intOf(m, "batch_size") : 1;
        int index = m.containsKey("batch_index") ? intOf(m, "batch_index") : 0;
        if (size > 1 || index > 0) {
            b.optNoiseSlice(new NoiseSlice(Math.max(size, index + 1), index));
        }
        return b;
    }

    private static String require(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException("it has no " + key + " entry");
        }
        return v;
    }

    private static int intOf(Map<String, String> m, String key) {
        try {
            return Integer.parseInt(require(m, key).strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("its " + key + " entry is not a whole number");
        }
    }

    private static List<String> listOf(Map<String, String> m, String key) {
        return m.containsKey(key) ? List.of(m.get(key)) : List.of();
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
