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

    public OnnxModel(String component, Path file, OrtSession session) throws EngineException {
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
        List<AutoCloseable> attached = new java.util.ArrayList<>();
        return new OnnxModel(component, file, runtime.open(component, file, merged, attached), List.copyOf(attached));
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

    /** The declared dimension, or -1 when it is symbolic. */
    public long inputDim(String input, int axis) {
        long[] s = inputs.get(input).getShape();
        return axis < s.length ? s[axis] : -1;
    }

    public boolean isHalf(String input) {
        return inputs.get(input).type == OnnxJavaType.FLOAT16;
    }

    /** Runs with float and int64 inputs; returns the requested outputs as float32 tensors. */
    public Map<String, FloatTensor> run(Map<String, FloatTensor> floats, Map<String, LongInput> longs,
                                        List<String> wanted, CancelToken cancel) throws EngineException {
        if (closed) {
            throw new IllegalStateException(component + " was already closed");
        }
        cancel.throwIfCancelled();
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try (OrtSession.RunOptions runOptions = new OrtSession.RunOptions();
             AutoCloseable hook = cancel.onCancel(() -> terminate(runOptions))) {
            for (var e : floats.entrySet()) {
                feed.put(e.getKey(), floatTensor(e.getKey(), e.getValue()));
            }
            for (var e : longs.entrySet()) {
                feed.put(e.getKey(), OnnxTensor.createTensor(OrtRuntime.environment(),
                        LongBuffer.wrap(e.getValue().values()), e.getValue().shape()));
            }
            long runStart = System.nanoTime();
            try (OrtSession.Result result = session.run(feed, new TreeSet<>(wanted), runOptions)) {
                RunClock.add(System.nanoTime() - runStart);
                Map<String, FloatTensor> out = new LinkedHashMap<>();
                for (String name : wanted) {
                    OnnxValue v = result.get(name).orElseThrow();
                    out.put(name, toFloat((OnnxTensor) v));
                }
                return out;
            }
        } catch (OrtException e) {
            throw OrtErrors.onRun(component, e);
        } catch (EngineException e) {
            throw e;
        } catch (Exception e) {
            throw new EngineException(EngineException.Kind.INTERNAL, component + ": " + e.getMessage(), e);
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    private static void terminate(OrtSession.RunOptions options) {
        try {
            options.setTerminate(true);
        } catch (OrtException ignored) {
            // the run already ended; nothing to stop
        }
    }

    private OnnxTensor floatTensor(String name, FloatTensor t) throws OrtException, EngineException {
        TensorInfo info = inputs.get(name);
        if (info == null) {
            throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL,
                    component + " has no input '" + name + "'");
        }
        if (info.type == OnnxJavaType.FLOAT16) {
            float[] d = t.data();
            ByteBuffer b = ByteBuffer.allocateDirect(d.length * 2).order(ByteOrder.nativeOrder());
            ShortBuffer s = b.asShortBuffer();
            for (float v : d) {
                s.put(Float.floatToFloat16(v));
            }
            return OnnxTensor.createTensor(OrtRuntime.environment(), b, t.shape(), OnnxJavaType.FLOAT16);
        }
        return OnnxTensor.createTensor(OrtRuntime.environment(), FloatBuffer.wrap(t.data()), t.shape());
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

    /** A one-line description of an input or output for check-model. */
    public static String describe(String name, TensorInfo info) {
        String[] names = info.getDimensionNames();
        long[] shape = info.getShape();
        StringBuilder s = new StringBuilder(name).append(' ').append(info.type.toString().toLowerCase()).append(" [");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                s.append(", ");
            }
            s.append(shape[i] >= 0 ? Long.toString(shape[i])
                    : (names != null && i < names.length && !names[i].isEmpty() ? names[i] : "?"));
        }
        return s.append(']').toString();
    }

    public Set<String> outputNames() {
        return outputs.keySet();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
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
        }
    }
}
