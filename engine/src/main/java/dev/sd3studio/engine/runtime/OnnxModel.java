package dev.sd3studio.engine.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.lora.MergedWeights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One ONNX session with its inputs and outputs read from the file, bound by name. Converts at the
 * boundary: callers always pass and get float32, whatever the export declares (fp16 included).
 */
public final class OnnxModel implements AutoCloseable {
    private final String component;
    private final Path file;
    private final OrtSession session;
    private final Map<String, TensorInfo> inputs;
    private final Map<String, TensorInfo> outputs;
    /** Freed after the session: buffers it reads in place (LoRA-merged weights). */
    private final List<AutoCloseable> attached;
    private boolean closed;

    private OnnxModel(String component, Path file, OrtSession session) throws EngineException {
        this(component, file, session, List.of());
    }

    private OnnxModel(String component, Path file, OrtSession session, List<AutoCloseable> attached)
            throws EngineException {
        this.component = component;
        this.file = file;
        this.session = session;
        this.attached = attached;
        try {
            this.inputs = tensorInfos(session.getInputInfo());
            this.outputs = tensorInfos(session.getOutputInfo());
        } catch (OrtException e) {
            close();
            throw OrtErrors.onLoad(component, file, e);
        }
    }

    public static OnnxModel open(OrtRuntime runtime, String component, Path file) throws EngineException {
        return new OnnxModel(component, file, runtime.open(component, file));
    }

    /** Opens the model with LoRA-merged weights in place of its own; takes ownership of {@code merged}. */
    public static OnnxModel open(OrtRuntime runtime, String component, Path file, MergedWeights merged)
            throws EngineException {
        return open(runtime, component, file, merged, false);
    }

    /**
     * Opens the model with LoRA-merged weights (when not null; this takes ownership of them) and, with
     * {@code skippableBlocks}, rewired so that a run can bypass any of its blocks ({@link SkipLayerGraph}).
     */
    public static OnnxModel open(OrtRuntime runtime, String component, Path file, MergedWeights merged,
                                 boolean skippableBlocks) throws EngineException {
        return open(runtime, component, ComponentGraph.file(file), merged, skippableBlocks);
    }

    /** As {@link #open(OrtRuntime, String, Path, MergedWeights, boolean)}, for a file or a graph the engine built. */
    public static OnnxModel open(OrtRuntime runtime, String component, ComponentGraph graph, MergedWeights merged,
                                 boolean skippableBlocks) throws EngineException {
        List<AutoCloseable> attached = new java.util.ArrayList<>();
        return new OnnxModel(component, graph.source(),
                runtime.open(component, graph, merged, skippableBlocks, attached), List.copyOf(attached));
    }

    private static Map<String, TensorInfo> tensorInfos(Map<String, NodeInfo> nodes) {
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        nodes.forEach((name, info) -> {
            if (info.getInfo() instanceof TensorInfo t) {
                out.put(name, t);
            }
        });
        return out;
    }

    public String component() {
        return component;
    }

    public Path file() {
        return file;
    }

    public Map<String, TensorInfo> inputs() {
        return inputs;
    }

    public Map<String, TensorInfo> outputs() {
        return outputs;
    }

    /** Fails at load, naming the file, when an input the pipeline feeds is absent. */
    public void requireInputs(String... names) throws EngineException {
        for (String n : names) {
            if (!inputs.containsKey(n)) {
                throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL, component + " (" + file
                        + ") has no input '" + n + "'; it has " + inputs.keySet()
                        + ". Is this an SD3 export in the Optimum layout?");
            }
        }
    }

    /** The first of {@code candidates} that is an output, or a load-time error naming them all. */
    public String requireOutput(String... candidates) throws EngineException {
        for (String n : candidates) {
            if (outputs.containsKey(n)) {
                return n;
            }
        }
        if (candidates.length > 0 && outputs.size() == 1) {
            return outputs.keySet().iterator().next();
        }
        throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL, component + " (" + file
                + ") has none of the outputs " + Arrays.toString(candidates) + "; it has " + outputs.keySet());
    }

    /** Fails at load, naming the file, when an id input is not int32 or int64. */
    public void requireIdInput(String name) throws EngineException {
        OnnxJavaType t = declared(name).type;
        if (t != OnnxJavaType.INT64 && t != OnnxJavaType.INT32) {
            throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL, component + " (" + file
                    + ") declares input '" + name + "' as " + t + "; token ids must be int64 or int32.");
        }
    }

    /** Fails at load, naming the file, when a value input (latents, embeddings, timestep) has a type we cannot feed. */
    public void requireValueInputs(String... names) throws EngineException {
        for (String n : names) {
            OnnxJavaType t = declared(n).type;
            if (!ElementTypes.acceptsFloats(t)) {
                throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL, component + " (" + file
                        + ") declares input '" + n + "' as " + t + "; float32, float16, float64 or an integer"
                        + " type was expected.");
            }
        }
    }

    /** The declared dimension, or -1 when it is symbolic. */
    public long inputDim(String input, int axis) {
        long[] s = inputs.get(input).getShape();
        return axis < s.length ? s[axis] : -1;
    }

    public boolean isHalf(String input) {
        return inputs.get(input).type == OnnxJavaType.FLOAT16;
    }

    /** Runs with float and integer inputs; returns the requested outputs as float32 tensors. */
    public Map<String, FloatTensor> run(Map<String, FloatTensor> floats, Map<String, LongInput> longs,
                                        List<String> wanted, CancelToken cancel) throws EngineException {
        return run(floats, longs, Map.of(), wanted, cancel);
    }

    /**
     * Runs with per-call float and integer inputs plus {@code kept} inputs that the caller made once
     * with {@link #input} and owns (they are not closed here). Cancellation is read from the token:
     * a run that {@code cancel} terminated fails with {@code CANCELLED}, whatever ORT's text says.
     */
    public Map<String, FloatTensor> run(Map<String, FloatTensor> floats, Map<String, LongInput> longs,
                                        Map<String, Input> kept, List<String> wanted, CancelToken cancel)
            throws EngineException {
        return run(floats, longs, kept, wanted, null, cancel);
    }

    /**
     * Like {@link #run(Map, Map, Map, List, CancelToken)}, with ORT writing output {@code pinned} into the
     * caller's buffer (made once with {@link #output}) instead of allocating a new one every call.
     */
    public FloatTensor run(Map<String, FloatTensor> floats, Map<String, Input> kept, Output pinned, CancelToken cancel)
            throws EngineException {
        return run(floats, Map.of(), kept, List.of(), pinned, cancel).get(pinned.name);
    }

    private Map<String, FloatTensor> run(Map<String, FloatTensor> floats, Map<String, LongInput> longs,
                                         Map<String, Input> kept, List<String> wanted, Output pinned,
                                         CancelToken cancel) throws EngineException {
        if (closed) {
            throw new IllegalStateException(component + " was already closed");
        }
        cancel.throwIfCancelled();
        Map<String, OnnxTensor> owned = new LinkedHashMap<>();
        try (TerminableRun run = new TerminableRun(cancel)) {
            for (var e : floats.entrySet()) {
                owned.put(e.getKey(), floatTensor(e.getKey(), e.getValue()));
            }
            for (var e : longs.entrySet()) {
                owned.put(e.getKey(), integerTensor(e.getKey(), e.getValue()));
            }
            Map<String, OnnxTensor> feed = new LinkedHashMap<>(owned);
            kept.forEach((name, input) -> feed.put(name, input.tensor()));
            long runStart = System.nanoTime();
            Map<String, OnnxTensor> pinnedOutputs = pinned == null ? Map.of() : Map.of(pinned.name, pinned.tensor);
            try (OrtSession.Result result = session.run(feed, new TreeSet<>(wanted), pinnedOutputs, run.options())) {
                RunClock.add(System.nanoTime() - runStart);
                Map<String, FloatTensor> out = new LinkedHashMap<>();
                if (pinned != null) {
                    out.put(pinned.name, pinned.read());
                }
                for (String name : wanted) {
                    OnnxValue v = result.get(name).orElseThrow();
                    out.put(name, toFloat((OnnxTensor) v));
                }
                return out;
            }
        } catch (OrtException e) {
            if (cancel.isCancelled()) {
                throw new EngineException(EngineException.Kind.CANCELLED, "Generation cancelled.", e);
            }
            throw OrtErrors.onRun(component, e);
        } catch (EngineException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new EngineException(EngineException.Kind.INTERNAL, component + ": " + e.getMessage(), e);
        } finally {
            owned.values().forEach(OnnxTensor::close);
        }
    }

    /**
     * An input tensor made once in the element type the session declares (fp16 converted here, once)
     * and kept across runs: a generation's constant embeddings, or a latent buffer rewritten in place
     * each step with {@link Input#set}. Its owner closes it.
     */
    public Input input(String name, FloatTensor value) throws EngineException {
        TensorInfo info = declared(name);
        try {
            ByteBuffer buffer = ByteBuffer.allocateDirect(Math.toIntExact((long) value.data().length * ElementTypes.bytes(info.type)))
                    .order(ByteOrder.nativeOrder());
            ElementTypes.write(buffer, info.type, value.data(), 0);
            // A direct buffer in native order is wrapped without a copy, so set() reaches the tensor.
            OnnxTensor tensor = OnnxTensor.createTensor(OrtRuntime.environment(), buffer, value.shape(), info.type);
            return new Input(name, info.type, value.shape(), buffer, tensor);
        } catch (OrtException e) {
            throw OrtErrors.onRun(component, e);
        }
    }

    /**
     * An output buffer of a fixed shape that ORT writes into on every run it is passed to (a pinned
     * output): the transformer's prediction, the same shape every step. Its owner closes it.
     */
    public Output output(String name, long[] shape) throws EngineException {
        TensorInfo info = outputs.get(name);
        if (info == null) {
            throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL, component + " has no output '" + name + "'");
        }
        if (info.type != OnnxJavaType.FLOAT && info.type != OnnxJavaType.FLOAT16) {
            throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL, component
                    + " returns " + info.type + " values; float32 or float16 was expected");
        }
        try {
            ByteBuffer buffer = ByteBuffer.allocateDirect(Math.toIntExact(FloatTensor.elementCount(shape)
                    * ElementTypes.bytes(info.type))).order(ByteOrder.nativeOrder());
            OnnxTensor tensor = OnnxTensor.createTensor(OrtRuntime.environment(), buffer, shape, info.type);
            return new Output(name, info.type, shape.clone(), buffer, tensor);
        } catch (OrtException e) {
            throw OrtErrors.onRun(component, e);
        }
    }

    /** See {@link #output}. */
    public static final class Output extends NativeTensor {
        private Output(String name, OnnxJavaType type, long[] shape, ByteBuffer buffer, OnnxTensor tensor) {
            super(name, type, shape, buffer, tensor);
        }

        /** The values of the last run, as float32 (one copy out of the native buffer). */
        FloatTensor read() {
            float[] out = new float[Math.toIntExact(FloatTensor.elementCount(shape))];
            if (type == OnnxJavaType.FLOAT) {
                buffer.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().get(out);
            } else {
                var halves = buffer.duplicate().order(ByteOrder.nativeOrder()).asShortBuffer();
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.float16ToFloat(halves.get(i));
                }
            }
            return new FloatTensor(shape.clone(), out);
        }
    }

    /**
     * A tensor over a direct buffer that this side owns and ORT reads or writes in place: a kept
     * {@link Input} or a pinned {@link Output}. Closing it frees the native tensor.
     */
    abstract static sealed class NativeTensor implements AutoCloseable permits Input, Output {
        final String name;
        final OnnxJavaType type;
        final long[] shape;
        final ByteBuffer buffer;
        final OnnxTensor tensor;
        private boolean closed;

        NativeTensor(String name, OnnxJavaType type, long[] shape, ByteBuffer buffer, OnnxTensor tensor) {
            this.name = name;
            this.type = type;
            this.shape = shape;
            this.buffer = buffer;
            this.tensor = tensor;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                tensor.close();
            }
        }
    }

    /** See {@link #input}. */
    public static final class Input extends NativeTensor {
        private Input(String name, OnnxJavaType type, long[] shape, ByteBuffer buffer, OnnxTensor tensor) {
            super(name, type, shape, buffer, tensor);
        }

        /** Rewrites the values in place; the shape must stay the same. */
        public void set(FloatTensor value) {
            if (!Arrays.equals(shape, value.shape())) {
                throw new IllegalArgumentException(name + " keeps shape " + Arrays.toString(shape) + ", got "
                        + Arrays.toString(value.shape()));
            }
            ElementTypes.write(buffer, type, value.data(), 0);
        }

        /** Writes {@code values} {@code copies} times back to back (the CFG batch) without building the batch. */
        public void setRepeated(float[] values, int copies) {
            long size = FloatTensor.elementCount(shape);
            if ((long) values.length * copies != size) {
                throw new IllegalArgumentException(name + " holds " + size + " values, got " + copies + " × "
                        + values.length);
            }
            for (int c = 0; c < copies; c++) {
                ElementTypes.write(buffer, type, values, c * values.length);
            }
        }

        OnnxTensor tensor() {
            return tensor;
        }
    }

    private TensorInfo declared(String name) throws EngineException {
        TensorInfo info = inputs.get(name);
        if (info == null) {
            throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL,
                    component + " has no input '" + name + "'");
        }
        return info;
    }

    /** The element type the export declares for an input: read once at load. */
    public OnnxJavaType inputType(String name) throws EngineException {
        return declared(name).type;
    }

    private OnnxTensor floatTensor(String name, FloatTensor t) throws OrtException, EngineException {
        TensorInfo info = declared(name);
        if (info.type == OnnxJavaType.FLOAT) {
            return OnnxTensor.createTensor(OrtRuntime.environment(), FloatBuffer.wrap(t.data()), t.shape());
        }
        ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact((long) t.data().length * ElementTypes.bytes(info.type)))
                .order(ByteOrder.nativeOrder());
        ElementTypes.write(b, info.type, t.data(), 0);
        return OnnxTensor.createTensor(OrtRuntime.environment(), b, t.shape(), info.type);
    }

    private OnnxTensor integerTensor(String name, LongInput in) throws OrtException, EngineException {
        TensorInfo info = declared(name);
        if (info.type == OnnxJavaType.INT32) {
            int[] narrowed = new int[in.values().length];
            for (int i = 0; i < narrowed.length; i++) {
                narrowed[i] = Math.toIntExact(in.values()[i]);
            }
            return OnnxTensor.createTensor(OrtRuntime.environment(), IntBuffer.wrap(narrowed), in.shape());
        }
        return OnnxTensor.createTensor(OrtRuntime.environment(), LongBuffer.wrap(in.values()), in.shape());
    }

    private FloatTensor toFloat(OnnxTensor t) throws EngineException {
        TensorInfo info = t.getInfo();
        long[] shape = info.getShape();
        float[] out = new float[Math.toIntExact(FloatTensor.elementCount(shape))];
        switch (info.type) {
            case FLOAT -> t.getFloatBuffer().get(out);
            case FLOAT16 -> {
                ShortBuffer s = t.getShortBuffer();
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.float16ToFloat(s.get(i));
                }
            }
            default -> throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL, component
                    + " returns " + info.type + " values; float32 or float16 was expected");
        }
        return new FloatTensor(shape, out);
    }

    /** An int64 input such as token ids. */
    public record LongInput(long[] shape, long[] values) {
        /** Equal-length rows (token ids of a batch) as one [rows, length] input. */
        public static LongInput ofRows(long[][] rows) {
            int length = rows[0].length;
            long[] flat = new long[rows.length * length];
            for (int b = 0; b < rows.length; b++) {
                System.arraycopy(rows[b], 0, flat, b * length, length);
            }
            return new LongInput(new long[] {rows.length, length}, flat);
        }
    }

    public Set<String> outputNames() {
        return outputs.keySet();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            OrtRuntime.LIVE_SESSIONS.decrementAndGet();
            try {
                session.close();
            } catch (OrtException ignored) {
                // closing a session that failed half-way can fail too; nothing more to free
            }
            for (AutoCloseable a : attached) {
                try {
                    a.close();
                } catch (Exception ignored) {
                    // native buffers: nothing else to release
                }
            }
            NativeHeap.trim();
        }
    }
}
