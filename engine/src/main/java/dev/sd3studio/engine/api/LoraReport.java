package dev.sd3studio.engine.api;

import java.util.List;

/**
 * Which keys of each LoRA changed which layers, and every key that changed nothing with the reason,
 * so a LoRA that silently does nothing cannot happen.
 */
public record LoraReport(List<FileReport> files) {
    public LoraReport {
        files = List.copyOf(files);
    }

    /** One LoRA file's outcome. */
    public record FileReport(LoraSpec lora, List<Match> matched, List<Unmatched> unmatched, List<String> warnings) {
        public FileReport {
            matched = List.copyOf(matched);
            unmatched = List.copyOf(unmatched);
            warnings = List.copyOf(warnings);
        }

        /** One line for logs and status bars. */
        public String summary() {
            long layers = matched.stream().map(m -> m.component() + "/" + m.layer()).distinct().count();
            return lora.describe() + ": " + layers + " layers changed"
                    + (unmatched.isEmpty() ? "" : ", " + unmatched.size() + " keys matched nothing");
        }
    }

    /** A key (tensor-name prefix in the file) and the model layer and ONNX node it changes. */
    public record Match(String key, String component, String layer, String node) {
    }

    /** A tensor of the file that changed nothing, and why. */
    public record Unmatched(String key, String reason) {
    }

    public static LoraReport empty() {
        return new LoraReport(List.of());
    }

    /** The full report as text, for the command line and the studio's details view. */
    public String describe() {
        StringBuilder s = new StringBuilder();
        for (FileReport f : files) {
            s.append(f.summary()).append('\n');
            f.matched().forEach(m -> s.append("  ").append(m.key()).append(" -> ").append(m.component()).append(' ')
                    .append(m.layer()).append(" (").append(m.node()).append(")\n"));
            f.unmatched().forEach(u -> s.append("  UNMATCHED ").append(u.key()).append(": ").append(u.reason()).append('\n'));
            f.warnings().forEach(w -> s.append("  warning: ").append(w).append('\n'));
        }
        return s.toString();
    }
}
