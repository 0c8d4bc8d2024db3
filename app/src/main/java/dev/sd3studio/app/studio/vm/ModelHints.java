package dev.sd3studio.app.studio.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a model folder may declare about itself in {@code sd3studio.json}: example prompts, the sizes
 * it was trained for, and a prompt template such as {@code a {small|large} {red|blue} circle} that
 * gives random examples and a hint for prompts outside it. Every entry is optional.
 *
 * @param sizes    width × height pairs; empty means "any size the engine accepts"
 * @param template the prompt grammar, alternatives in braces; empty when the model takes any prompt
 * @param hint     shown when a prompt does not follow the template
 * @param defaultShift the scheduler's shift ({@code scheduler/scheduler_config.json}); 0 when unknown
 * @param guidance the guidance scale the model is made for ({@code "guidance"}), as model cards recommend one
 *                 (SD3.5 Large 3.5, turbo models 0); empty when not declared, and then SD3's 7 applies
 */
public record ModelHints(List<String> examples, List<int[]> sizes, String template, String hint, double defaultShift,
                         OptionalDouble guidance) {
    public static final String FILE = "sd3studio.json";
    public static final ModelHints NONE = new ModelHints(List.of(), List.of(), "", "", 0, OptionalDouble.empty());
    /** The guidance field's range in the studio; a declared value outside it is ignored. */
    static final double MAX_GUIDANCE = 30;
    private static final Pattern ALTERNATIVES = Pattern.compile("\\{([^{}]*)}");
    /** A real sd3studio.json is a few KB; a shared folder's larger one is not read at all. */
    static final long MAX_FILE_BYTES = 64 * 1024;
    /**
     * A template is one sentence with a few choices. Capping it bounds {@link #follows}, which runs on the
     * UI thread at each keystroke, to template × prompt character comparisons (about 10 ms for a
     * 10,000-character prompt), so it never needs a worker thread of its own.
     */
    static final int MAX_TEMPLATE_CHARS = 1000;

    public ModelHints {
        examples = List.copyOf(examples);
        sizes = List.copyOf(sizes);
    }

    /** The folder's hints; none when the file is absent, and none (with no error) when it is unreadable. */
    public static ModelHints read(Path modelFolder) {
        double shift = schedulerShift(modelFolder);
        Path f = modelFolder.resolve(FILE);
        try {
            if (!Files.isRegularFile(f) || Files.size(f) > MAX_FILE_BYTES) {
                return new ModelHints(List.of(), List.of(), "", "", shift, OptionalDouble.empty());
            }
            JsonNode root = new ObjectMapper().readTree(f.toFile());
            List<String> examples = new ArrayList<>();
            root.path("examples").forEach(e -> examples.add(e.asText()));
            List<int[]> sizes = new ArrayList<>();
            root.path("sizes").forEach(s -> {
                if (s.size() == 2 && s.get(0).asInt() > 0 && s.get(1).asInt() > 0) {
                    sizes.add(new int[] {s.get(0).asInt(), s.get(1).asInt()});
                }
            });
            String template = root.path("prompt_template").asText("");
            if (template.length() > MAX_TEMPLATE_CHARS) {
                template = ""; // not a sentence: no hint rather than a slow check at every keystroke
            }
            return new ModelHints(examples, sizes, template, root.path("prompt_hint").asText(""), shift,
                    guidance(root.path("guidance")));
        } catch (IOException | RuntimeException e) {
            // hints are a courtesy: a damaged file must not stop the model from opening
            return new ModelHints(List.of(), List.of(), "", "", shift, OptionalDouble.empty());
        }
    }

    private static OptionalDouble guidance(JsonNode n) {
        double v = n.isNumber() ? n.asDouble() : Double.NaN;
        return v >= 0 && v <= MAX_GUIDANCE ? OptionalDouble.of(v) : OptionalDouble.empty();
    }

    private static double schedulerShift(Path modelFolder) {
        Path f = modelFolder.resolve("scheduler/scheduler_config.json");
        try {
            double v = new ObjectMapper().readTree(f.toFile()).path("shift").asDouble(0);
            return Double.isFinite(v) && v > 0 ? v : 0;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * A short notice when a picture of width × height is not one of the sizes the model declares
     * (a small model trained at one size draws poorly at others); empty when the size is declared or
     * the model declares none.
     */
    public Optional<String> sizeNotice(int width, int height) {
        if (sizes.isEmpty() || sizes.stream().anyMatch(s -> s[0] == width && s[1] == height)) {
            return Optional.empty();
        }
        List<String> names = sizes.stream().map(s -> s[0] + "×" + s[1]).toList();
        return Optional.of("This model was trained at " + String.join(" or ", names)
                + "; other sizes give poorer pictures.");
    }

    /** A random prompt from the template, or a random example; empty when the model declares neither. */
    public Optional<String> randomPrompt(RandomGenerator random) {
        if (!template.isBlank()) {
            Matcher m = ALTERNATIVES.matcher(template);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String[] options = m.group(1).split("\\|");
                m.appendReplacement(out, Matcher.quoteReplacement(options[random.nextInt(options.length)]));
            }
            m.appendTail(out);
            return Optional.of(out.toString());
        }
        return examples.isEmpty() ? Optional.empty() : Optional.of(examples.get(random.nextInt(examples.size())));
    }

    /**
     * Whether {@code prompt} follows the template (always, without one). Case and spacing are forgiven.
     * The template comes from a model folder anyone can share, so it is not compiled into a
     * backtracking regex ({@code {a|aa}} thirty times took minutes); the prompt is walked once per part
     * of the template, keeping the set of places each alternative can reach: O(template × prompt).
     */
    public boolean follows(String prompt) {
        if (template.isBlank()) {
            return true;
        }
        String text = prompt.strip().replaceAll("\\s+", " ").replaceAll("[.!]$", "");
        BitSet reached = new BitSet(text.length() + 1);
        reached.set(0);
        Matcher m = ALTERNATIVES.matcher(template);
        int last = 0;
        while (m.find() && !reached.isEmpty()) {
            reached = advance(reached, text, new String[] {template.substring(last, m.start())});
            reached = advance(reached, text, m.group(1).split("\\|"));
            last = m.end();
        }
        reached = advance(reached, text, new String[] {template.substring(last)});
        return reached.get(text.length());
    }

    /** The places in {@code text} reached by reading one of {@code options} from any place in {@code from}. */
    private static BitSet advance(BitSet from, String text, String[] options) {
        BitSet to = new BitSet(text.length() + 1);
        for (int at = from.nextSetBit(0); at >= 0; at = from.nextSetBit(at + 1)) {
            for (String option : options) {
                if (text.regionMatches(true, at, option, 0, option.length())) {
                    to.set(at + option.length());
                }
            }
        }
        return to;
    }
}
