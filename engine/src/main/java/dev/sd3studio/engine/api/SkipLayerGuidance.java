package dev.sd3studio.engine.api;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Skip-layer guidance (SLG): on the steps {@code i} of {@code N} with {@code N·start < i < N·stop}, one
 * more transformer pass on the positive prompt with {@code layers} bypassed, and
 * {@code noise += (text − skip)·scale}. Only with classifier-free guidance (guidance above 1).
 * Stability AI's setting for SD3.5 Medium is layers 7, 8, 9 with the defaults below.
 *
 * @param layers the transformer blocks to bypass, counted from 0, ascending and without repeats
 */
public record SkipLayerGuidance(List<Integer> layers, double scale, double start, double stop) {
    public static final double DEFAULT_SCALE = 2.8;
    public static final double DEFAULT_START = 0.01;
    public static final double DEFAULT_STOP = 0.2;
    /** What off looks like: no layers. */
    public static final SkipLayerGuidance OFF = new SkipLayerGuidance(List.of(), DEFAULT_SCALE, DEFAULT_START,
            DEFAULT_STOP);

    public SkipLayerGuidance {
        layers = layers.stream().distinct().sorted().toList();
    }

    public boolean isOn() {
        return !layers.isEmpty();
    }

    /** Whether step {@code i} (from 0) of {@code steps} gets the extra pass; strict on both ends, as the reference. */
    public boolean coversStep(int i, int steps) {
        return isOn() && i > steps * start && i < steps * stop;
    }

    /** How many of {@code steps} steps get the extra pass: the cost, one transformer pass each. */
    public int extraPasses(int steps) {
        int n = 0;
        for (int i = 0; i < steps; i++) {
            if (coversStep(i, steps)) {
                n++;
            }
        }
        return n;
    }

    /** {@code 7,8,9}: how the command line and the PNG metadata write the layers. */
    public String layerList() {
        return layers.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    /** Parses {@code 7,8,9} (spaces allowed); an empty text is no layers. */
    public static List<Integer> parseLayers(String text) throws EngineException {
        if (text.isBlank()) {
            return List.of();
        }
        List<Integer> out = new java.util.ArrayList<>();
        for (String part : text.split(",")) {
            try {
                out.add(Integer.parseInt(part.strip()));
            } catch (NumberFormatException e) {
                throw EngineException.invalid("skip layers must be block numbers separated by commas, such as 7,8,9"
                        + " (got '" + text + "').");
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "layers %s, scale %s, steps %s–%s", layerList(), scale, start, stop);
    }
}
