package dev.sd3studio.engine.runtime.quant;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The quantized weights of one component, mapped from their cache entry: each weight's packed codes,
 * scales and zero points as buffers over the mapping. ONNX Runtime reads them in place (they are handed
 * over as external initializers, so they are neither copied nor read from the model's folder); the session
 * must be closed before {@link #close()} unmaps them.
 */
public final class QuantizedWeights implements AutoCloseable {
    /** One weight: its layout and the three MatMulNBits inputs. {@code halfScales}: fp16 scales, else float32. */
    public record Weight(String name, BlockLayout layout, boolean halfScales, ByteBuffer packed, ByteBuffer scales,
                         ByteBuffer zeroPoints) {
        public String packedName() {
            return name + "_Q" + layout.bits() + "B" + layout.blockSize();
        }

        public String scalesName() {
            return packedName() + "_scales";
        }

        public String zeroPointsName() {
            return packedName() + "_zero_points";
        }

        public long bytes() {
            return packed.capacity() + scales.capacity() + zeroPoints.capacity();
        }
    }

    private final Arena arena;
    private final Map<String, Weight> weights;
    private final List<OnnxTensor> tensors = new ArrayList<>();
    private boolean closed;

    QuantizedWeights(Arena arena, List<Weight> weights) {
        this.arena = arena;
        Map<String, Weight> byName = new LinkedHashMap<>();
        weights.forEach(w -> byName.put(w.name(), w));
        this.weights = byName;
    }

    /** The quantized weight that replaces the float initializer {@code name}, or null. */
    public Weight get(String name) {
        return weights.get(name);
    }

    public List<Weight> all() {
        return List.copyOf(weights.values());
    }

    /** Bytes of all quantized weights (what the quantized layers hold, resident, instead of their float weights). */
    public long bytes() {
        return weights.values().stream().mapToLong(Weight::bytes).sum();
    }

    /** Hands the weights to a session as initializers of the names the rewritten graph declares. */
    public synchronized void addTo(OrtEnvironment env, OrtSession.SessionOptions options) throws OrtException {
        Map<String, OnnxTensorLike> external = new LinkedHashMap<>();
        for (Weight w : weights.values()) {
            BlockLayout l = w.layout();
            external.put(w.packedName(), tensor(env, w.packed(), new long[] {l.n(), l.blocks(), l.blobBytes()},
                    OnnxJavaType.UINT8));
            external.put(w.scalesName(), tensor(env, w.scales(), new long[] {l.scaleCount()},
                    w.halfScales() ? OnnxJavaType.FLOAT16 : OnnxJavaType.FLOAT));
            external.put(w.zeroPointsName(), tensor(env, w.zeroPoints(), new long[] {l.zeroPointBytes()},
                    OnnxJavaType.UINT8));
        }
        options.addExternalInitializers(external);
    }

    private OnnxTensor tensor(OrtEnvironment env, ByteBuffer data, long[] shape, OnnxJavaType type) throws OrtException {
        OnnxTensor t = OnnxTensor.createTensor(env, data.duplicate().order(java.nio.ByteOrder.nativeOrder()), shape, type);
        tensors.add(t);
        return t;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            tensors.forEach(OnnxTensor::close);
            arena.close();
        }
    }
}
