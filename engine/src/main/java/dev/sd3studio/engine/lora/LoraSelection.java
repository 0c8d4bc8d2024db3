package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.api.LoraReport;
import dev.sd3studio.engine.api.LoraReport.FileReport;
import dev.sd3studio.engine.api.LoraReport.Match;
import dev.sd3studio.engine.api.LoraReport.Unmatched;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.lora.LoraModule.Target;
import dev.sd3studio.engine.lora.OnnxWeights.LinearWeight;
import dev.sd3studio.engine.model.Component;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A list of LoRAs matched against a model's components: which key changes which ONNX weight, the report
 * of what matched and what did not, and per component the merge plan with a fingerprint, so that a
 * component is rebuilt only when the LoRAs that touch it change. A transformer LoRA that cannot be
 * applied is an error, never a silent no-op; text-encoder parts that cannot be applied are a named warning.
 */
public final class LoraSelection implements AutoCloseable {
    /** The component graphs, read on demand; empty when the model has no such component (or it is dropped). */
    public interface Graphs {
        Optional<OnnxWeights> of(Component c) throws EngineException;
    }

    /** One LoRA module's change to one weight; {@code factor} = scale · (alpha / rank). */
    public record Contribution(LoraFile file, LoraModule module, Target target, LinearWeight weight, int rank,
                               double factor) {
    }

    /**
     * What one component's session must be built with. Equal fingerprints mean identical merged weights:
     * the files (path, size, modification time) and scales that touch the component, in order.
     */
    public record ComponentPlan(Component component, List<String> fingerprint, List<Contribution> contributions) {
        public boolean isEmpty() {
            return contributions.isEmpty();
        }
    }

    private final List<LoraSpec> specs;
    private final List<String> stamps;
    private final List<LoraFile> files;
    private final LoraReport report;
    private final Map<Component, ComponentPlan> plans;

    private LoraSelection(List<LoraSpec> specs, List<LoraFile> files, LoraReport report, Map<Component, ComponentPlan> plans) {
        this.specs = List.copyOf(specs);
        this.stamps = specs.stream().map(LoraSelection::fingerprint).toList();
        this.files = files;
        this.report = report;
        this.plans = plans;
    }

    public static LoraSelection none() {
        return new LoraSelection(List.of(), List.of(), LoraReport.empty(), Map.of());
    }

    public static LoraSelection select(List<LoraSpec> specs, Graphs graphs) throws EngineException {
        List<LoraFile> opened = new ArrayList<>();
        try {
            List<FileReport> reports = new ArrayList<>();
            Map<Component, List<Contribution>> byComponent = new EnumMap<>(Component.class);
            Map<Component, List<String>> prints = new EnumMap<>(Component.class);
            for (LoraSpec spec : specs) {
                LoraFile file = LoraFile.open(spec.file());
                opened.add(file);
                List<Contribution> contributions = new ArrayList<>();
                reports.add(match(spec, file, graphs, contributions));
                if (spec.scale() == 0) {
                    continue;   // reported, but merging nothing keeps the base weights bit for bit
                }
                String print = fingerprint(spec);
                for (Contribution c : contributions) {
                    byComponent.computeIfAbsent(componentOf(c), k -> new ArrayList<>()).add(c);
                    List<String> p = prints.computeIfAbsent(componentOf(c), k -> new ArrayList<>());
                    if (p.isEmpty() || !p.getLast().equals(print)) {
                        p.add(print);
                    }
                }
            }
            Map<Component, ComponentPlan> plans = new EnumMap<>(Component.class);
            byComponent.forEach((c, list) -> plans.put(c, new ComponentPlan(c, List.copyOf(prints.get(c)), List.copyOf(list))));
            return new LoraSelection(specs, opened, new LoraReport(reports), plans);
        } catch (EngineException | RuntimeException e) {
            opened.forEach(LoraFile::close);
            throw e;
        }
    }

    private static Component componentOf(Contribution c) {
        return c.module().component();
    }

    /** A file's identity as merged: absolute path, size, modification time, and the scale. */
    public static String fingerprint(LoraSpec spec) {
        Path p = spec.file().toAbsolutePath().normalize();
        String stamp;
        try {
            stamp = Files.size(p) + "@" + Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            stamp = "?";
        }
        return p + "|" + stamp + "|" + spec.scale();
    }

    private static FileReport match(LoraSpec spec, LoraFile file, Graphs graphs, List<Contribution> out)
            throws EngineException {
        List<Match> matched = new ArrayList<>();
        List<Unmatched> unmatched = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        file.keys().ignored().forEach(i -> unmatched.add(new Unmatched(i.key(), i.reason())));
        Map<Component, List<LoraModule>> byComponent = new LinkedHashMap<>();
        for (LoraModule m : file.keys().modules()) {
            byComponent.computeIfAbsent(m.component(), k -> new ArrayList<>()).add(m);
        }
        if (byComponent.isEmpty()) {
            throw new EngineException(Kind.INVALID_REQUEST, "LoRA " + spec.file() + " has no LoRA layers SD3 Studio"
                    + " understands (" + file.reader().tensors().size() + " tensors, e.g. "
                    + file.reader().tensors().keySet().stream().limit(2).toList() + "). Supported: diffusers/peft"
                    + " (transformer.….lora_A/lora_B) and SD3 original / kohya (lora_unet_joint_blocks_…).");
        }
        for (var e : byComponent.entrySet()) {
            Component c = e.getKey();
            Optional<OnnxWeights> graph = graphs.of(c);
            int before = out.size();
            List<Unmatched> missed = new ArrayList<>();
            if (graph.isEmpty()) {
                e.getValue().forEach(m -> missed.add(new Unmatched(m.key(), "this model has no " + c.folder()
                        + " (or it is dropped)")));
            } else {
                for (LoraModule m : e.getValue()) {
                    matchModule(spec, file, m, graph.get(), out, matched, missed);
                }
            }
            unmatched.addAll(missed);
            int applied = out.size() - before;
            String notReady = graph.map(OnnxWeights::whyNotLoraReady).orElse(null);
            if (missed.isEmpty()) {
                continue;
            }
            String what = missed.size() + " of its " + c.folder() + " keys";
            if (c == Component.TRANSFORMER) {
                if (notReady != null) {
                    throw new EngineException(Kind.INCOMPATIBLE_MODEL, "this transformer export cannot take LoRAs: "
                            + notReady + ". Use an unoptimized export (optimum-cli export onnx without --optimize).");
                }
                if (applied == 0) {
                    throw new EngineException(Kind.INVALID_REQUEST, "LoRA " + spec.file() + " matched no layer of"
                            + " the transformer (e.g. " + missed.getFirst().key() + ": " + missed.getFirst().reason()
                            + "). Is it a LoRA for SD3 / SD3.5 of this size?");
                }
                warnings.add(what + " matched nothing (listed in the LoRA report)");
            } else if (graph.isEmpty()) {
                warnings.add(what + " were not applied: the model has no " + c.description() + " or it is dropped");
            } else if (notReady != null) {
                out.subList(before, out.size()).clear();
                matched.removeIf(mt -> mt.component().equals(c.folder()));
                warnings.add(c.folder() + " keys were not applied: this " + c.description() + " export cannot take"
                        + " LoRAs (" + notReady + "); the rest of the LoRA is applied");
            } else {
                warnings.add(what + " matched nothing (listed in the LoRA report)");
            }
        }
        return new FileReport(spec, matched, unmatched, warnings);
    }

    private static void matchModule(LoraSpec spec, LoraFile file, LoraModule m, OnnxWeights graph,
                                    List<Contribution> out, List<Match> matched, List<Unmatched> missed)
            throws EngineException {
        long[] a = file.shape(m.down());
        long[] b = file.shape(m.up());
        if (a.length != 2 || b.length != 2 || a[0] != b[1]) {
            missed.add(new Unmatched(m.key(), "down " + java.util.Arrays.toString(a) + " and up "
                    + java.util.Arrays.toString(b) + " are not a LoRA pair (rank × in, out × rank)"));
            return;
        }
        int rank = (int) a[0];
        if (rank == 0) {
            throw corrupt(file, m, "has rank 0 (down " + java.util.Arrays.toString(a) + ", up "
                    + java.util.Arrays.toString(b) + ")");
        }
        double alpha = file.alpha(m);
        if (!Double.isFinite(alpha)) {
            throw corrupt(file, m, "has alpha " + alpha);
        }
        double factor = spec.scale() * (alpha / rank);
        for (Target t : m.targets()) {
            List<LinearWeight> hits = t.modulePath() != null ? graph.byModulePath(t.modulePath())
                    : graph.byFlatName(t.flatName());
            if (hits.isEmpty()) {
                String why = graph.whyNotLoraReady();
                missed.add(new Unmatched(m.key(), why != null ? "cannot be applied: " + why
                        : "no layer " + t.describe() + " in the " + m.component().folder() + " model"));
                continue;
            }
            List<LinearWeight> parts = partsOfOneLayer(hits);
            if (parts == null) {
                missed.add(new Unmatched(m.key(), t.describe() + " is ambiguous: " + hits.size() + " layers match ("
                        + hits.stream().map(LinearWeight::node).limit(3).toList() + ")"));
                continue;
            }
            LinearWeight w = parts.getFirst();
            long layerOut = parts.stream().mapToLong(LinearWeight::outFeatures).sum();
            if (w.inFeatures() != a[1] || layerOut * t.chunks() != b[0]) {
                missed.add(new Unmatched(m.key(), "shape does not fit " + t.describe() + ": the layer is "
                        + w.inFeatures() + " → " + layerOut + ", the LoRA " + a[1] + " → " + b[0]
                        + (t.chunks() > 1 ? " (" + t.chunks() + " fused parts)" : "") + "; a LoRA for another model size?"));
                continue;
            }
            var coarse = parts.stream().filter(p -> !OnnxWeights.canMerge(p.weight().dataType())).findFirst();
            if (coarse.isPresent()) {
                missed.add(new Unmatched(m.key(), "cannot be applied to " + t.describe() + ": "
                        + OnnxWeights.whyNotMergeable(coarse.get().weight().dataType())));
                continue;
            }
            for (LinearWeight part : parts) {
                out.add(new Contribution(file, m, t, part, rank, factor));
            }
            String layer = t.modulePath() != null ? t.modulePath() : w.modulePath();
            matched.add(new Match(m.key(), m.component().folder(),
                    t.chunks() > 1 ? layer + " (part " + (t.chunk() + 1) + "/" + t.chunks() + ")" : layer,
                    parts.size() == 1 ? w.node() : w.node() + " and " + (parts.size() - 1) + " more row ranges"));
        }
    }

    /**
     * The weights of one layer, in row order: the single hit, or the row ranges of one module a built graph cut it
     * into (same module path and input, rows from 0 without gap); null when the hits are different layers.
     */
    static List<LinearWeight> partsOfOneLayer(List<LinearWeight> hits) {
        if (hits.size() == 1) {
            return hits;
        }
        List<LinearWeight> sorted = hits.stream().sorted(java.util.Comparator.comparingLong(LinearWeight::firstRow)).toList();
        LinearWeight first = sorted.getFirst();
        long next = 0;
        for (LinearWeight p : sorted) {
            if (p.modulePath() == null || !p.modulePath().equals(first.modulePath()) || p.firstRow() != next
                    || p.inFeatures() != first.inFeatures() || p.layout() != first.layout()) {
                return null;
            }
            next += p.outFeatures();
        }
        return sorted;
    }

    /** A module whose scaling factor would be NaN or infinite: merged, it would turn the weights into NaN. */
    private static EngineException corrupt(LoraFile file, LoraModule m, String what) {
        return new EngineException(Kind.CORRUPT_FILE, "LoRA " + file.path() + " is corrupt: its module " + m.key()
                + " " + what + ", which would turn the model's weights into NaN. Download or export the LoRA again.");
    }

    public List<LoraSpec> specs() {
        return specs;
    }

    /** The fingerprints of the files as they were when selected. */
    public List<String> stamps() {
        return stamps;
    }

    public LoraReport report() {
        return report;
    }

    /** The plan for a component; an empty plan means "base weights". */
    public ComponentPlan plan(Component c) {
        return plans.getOrDefault(c, new ComponentPlan(c, List.of(), List.of()));
    }

    /** Every warning of the report, each naming its LoRA file. */
    public List<String> warnings() {
        List<String> out = new ArrayList<>();
        for (FileReport f : report.files()) {
            f.warnings().forEach(w -> out.add("LoRA " + f.lora().describe() + ": " + w));
        }
        return out;
    }

    @Override
    public void close() {
        files.forEach(LoraFile::close);
    }
}
