package dev.sd3studio.app.gallery;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A LoRA as a picture records it: its file name, its SHA-256 and its scale, one line of the
 * {@code loras} entry ({@code style.safetensors:0.8 sha256=…}). The folder is not recorded: a shared
 * picture must not tell who made it or where, and a path read from a picture is never opened or
 * even looked at (on Windows a {@code \\host\share} path sends the user's credentials to that host);
 * {@link LoraFinder} finds the file again among the user's own LoRA folders.
 *
 * @param name   the file name, without any folder
 * @param sha256 lowercase hex; null for pictures made before hashes were recorded (they kept a full path)
 * @param scale  the strength it was merged at
 */
public record RecordedLora(String name, String sha256, double scale) {
    private static final Pattern LINE = Pattern.compile("(.+):([^:\\s]+) sha256=([0-9a-f]{64})");
    private static final Pattern OLD_SCALE = Pattern.compile("[-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?");

    /** The {@code loras} line for a file (its name only) at a scale; {@code sha256} null when it could not be read. */
    public static String line(String fileName, double scale, String sha256) {
        return fileName + ":" + formatScale(scale) + (sha256 == null ? "" : " sha256=" + sha256);
    }

    /**
     * The recorded LoRAs of a {@code loras} entry (null or blank: none). Older pictures recorded
     * {@code /full/path/name.safetensors:SCALE}: only the name and scale are kept from those.
     * Lines that say nothing usable are left out.
     */
    public static List<RecordedLora> parseAll(String lines) {
        List<RecordedLora> out = new ArrayList<>();
        if (lines == null) {
            return out;
        }
        for (String line : lines.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
            Matcher m = LINE.matcher(line);
            if (m.matches()) {
                parseScale(m.group(2)).ifPresent(scale -> add(out, m.group(1), m.group(3), scale));
                continue;
            }
            int colon = line.lastIndexOf(':');
            String tail = colon > 0 ? line.substring(colon + 1) : "";
            var scale = OLD_SCALE.matcher(tail).matches() ? parseScale(tail) : java.util.Optional.<Double>empty();
            if (scale.isPresent()) {
                add(out, line.substring(0, colon), null, scale.get());
            } else {
                add(out, line, null, 1.0);
            }
        }
        return out;
    }

    private static void add(List<RecordedLora> out, String path, String sha256, double scale) {
        // the name is the text after the last separator of either platform: never parsed as a path
        String name = path.substring(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1).strip();
        if (!name.isEmpty() && !name.equals(".") && !name.equals("..")) {
            out.add(new RecordedLora(name, sha256, scale));
        }
    }

    private static java.util.Optional<Double> parseScale(String text) {
        try {
            double v = Double.parseDouble(text);
            return Double.isFinite(v) ? java.util.Optional.of(v) : java.util.Optional.empty();
        } catch (NumberFormatException e) {
            return java.util.Optional.empty();
        }
    }

    /**
     * A scale as a person set it: six significant digits, so the slider's 1.0 - 4 × 0.05 is recorded
     * as 0.8, not 0.7999999999999998 (which reads as a different number); whole numbers keep ".0".
     */
    public static String formatScale(double scale) {
        if (!Double.isFinite(scale)) {
            return Double.toString(scale);
        }
        BigDecimal d = new BigDecimal(scale).round(new MathContext(6)).stripTrailingZeros();
        return (d.scale() <= 0 ? d.setScale(1) : d).toPlainString();
    }

    /** {@code name.safetensors:0.8}, as the "parameters" text and messages show it. */
    public String describe() {
        return name + ":" + formatScale(scale);
    }

    /** The name, and the start of the hash when there is one: {@code 'style.safetensors' (sha256 1a2b3c4d…)}. */
    public String label() {
        return "'" + name + "'" + (sha256 == null ? "" : " (sha256 " + sha256.substring(0, 8) + "…)");
    }

    /** Whether a hash read from a file is this one's (always, for old records without a hash). */
    boolean matches(String fileSha256) {
        return sha256 == null || sha256.equals(fileSha256.toLowerCase(Locale.ROOT));
    }

    static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }
}
