package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.MemoryMode;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.lora.LoraMerge;
import dev.sd3studio.engine.lora.LoraSelection;
import dev.sd3studio.engine.lora.MergedWeights;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.model.ModelSource;
import dev.sd3studio.engine.runtime.ComponentGraph;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OrtRuntime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Opens component sessions when a stage needs them and, in offload mode, closes them when the
 * stage is done; in resident mode they stay until the engine closes. Each component owns one
 * session, so closing it frees the native memory at once.
 */
final class ComponentSessions implements AutoCloseable {
    /** Wraps an opened ONNX model into its component class; the model is closed if this fails. */
    interface Wrapper<T extends AutoCloseable> {
        T wrap(OnnxModel model) throws EngineException;
    }

    private final ModelSource folder;
    private final OrtRuntime runtime;
    private final MemoryMode mode;
    private final Map<Component, AutoCloseable> open = new EnumMap<>(Component.class);
    /** What each open session was built with: its LoRAs and whether its blocks can be bypassed. */
    private final Map<Component, Build> builtWith = new EnumMap<>(Component.class);
    private LoraBinding loras;
    private boolean skippableTransformer;
    /** The quantization fall-back already reported, so that offload mode does not repeat it every load. */
    private String lastQuantizationWarning;

    /** A session's build: the LoRA fingerprint (empty: base weights), and the rewired graph of skip-layer guidance. */
    private record Build(List<String> loras, boolean skippableBlocks) {
    }

    ComponentSessions(ModelSource folder, OrtRuntime runtime, MemoryMode mode) {
        this.folder = folder;
        this.runtime = runtime;
        this.mode = mode;
    }

    /** Sessions follow these LoRAs from now on: a component whose LoRAs changed is rebuilt when next used. */
    synchronized void useLoras(LoraBinding binding) {
        loras = binding;
    }

    /**
     * Whether the transformer is opened rewired so that its blocks can be bypassed (skip-layer guidance):
     * the rewired session replaces the plain one while a generation asks for it, never beside it.
     */
    synchronized void useSkippableTransformer(boolean on) {
        skippableTransformer = on;
    }

    @SuppressWarnings("unchecked")
    synchronized <T extends AutoCloseable> T get(Component c, Wrapper<T> wrapper, ProgressListener listener,
                                                 Timings timings) throws EngineException {
        LoraSelection.ComponentPlan plan = loras == null ? null : loras.plan(c);
        Build wanted = new Build(plan == null ? List.of() : plan.fingerprint(),
                c == Component.TRANSFORMER && skippableTransformer);
        AutoCloseable existing = open.get(c);
        if (existing != null) {
            if (wanted.equals(builtWith.get(c))) {
                return (T) existing;
            }
            closeQuietly(open.remove(c));   // its LoRAs or its graph changed: only this component is rebuilt
        }
        ComponentGraph graph = folder.require(c, wanted.skippableBlocks());
        listener.stage("load " + c.folder() + (graph.isBuilt() ? "" : " (" + humanSize(onDisk(graph.source().getParent())) + ")"));
        long t0 = System.nanoTime();
        OnnxModel model = plan == null || plan.isEmpty()
                ? OnnxModel.open(runtime, c.folder(), graph, null, wanted.skippableBlocks())
                : openMerged(c, graph, plan, wanted.skippableBlocks(), listener, timings);
        T wrapped;
        try {
            wrapped = wrapper.wrap(model);
        } catch (EngineException | RuntimeException e) {
            model.close();
            throw e;
        }
        timings.add("load_" + c.folder(), System.nanoTime() - t0);
        String quantization = runtime.quantizationWarning().orElse(null);
        if (quantization != null && !quantization.equals(lastQuantizationWarning)) {
            lastQuantizationWarning = quantization;
            listener.warning(quantization);
        }
        open.put(c, wrapped);
        builtWith.put(c, wanted);
        return wrapped;
    }

    private OnnxModel openMerged(Component c, ComponentGraph graph, LoraSelection.ComponentPlan plan, boolean skippableBlocks,
                                 ProgressListener listener, Timings timings) throws EngineException {
        listener.stage("merge " + plan.contributions().size() + " LoRA layers into " + c.folder());
        long t0 = System.nanoTime();
        MergedWeights merged = LoraMerge.merge(plan.contributions());
        timings.add("lora_merge_" + c.folder(), System.nanoTime() - t0);
        return OnnxModel.open(runtime, c.folder(), graph, merged, skippableBlocks);
    }

    /** Ends a stage: in offload mode its components are closed now. */
    synchronized void release(Component... components) {
        if (mode == MemoryMode.OFFLOAD) {
            for (Component c : components) {
                closeQuietly(open.remove(c));
            }
        }
    }

    synchronized boolean isOpen(Component c) {
        return open.containsKey(c);
    }

    /** The components whose sessions are open now, for tests of the memory modes. */
    synchronized java.util.Set<Component> openComponents() {
        return open.isEmpty() ? java.util.EnumSet.noneOf(Component.class) : java.util.EnumSet.copyOf(open.keySet());
    }

    @Override
    public synchronized void close() {
        List<Component> order = new ArrayList<>(open.keySet());
        for (int i = order.size() - 1; i >= 0; i--) {
            closeQuietly(open.remove(order.get(i)));
        }
    }

    /** Bytes of the component's folder: the graph and its external weights. */
    private static long onDisk(Path dir) {
        try (var files = java.nio.file.Files.list(dir)) {
            return files.mapToLong(p -> p.toFile().length()).sum();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    static String humanSize(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(java.util.Locale.ROOT, "%.1f GB", bytes / (double) (1L << 30));
        }
        return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / (double) (1L << 20));
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // a session that fails to close has nothing left to free
            }
        }
    }
}
