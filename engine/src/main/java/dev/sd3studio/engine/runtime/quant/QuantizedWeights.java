package dev.sd3studio.engine.runtime.quant;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 *
 * <p>ONNX Runtime prepacks MatMulNBits weights into its own buffers while the session is created, after which
 * it no longer reads the mapping. Pages it has read would still count in this process's memory until the
 * session closes, doubling the weights' share of the peak; {@link #releasePagesWhile} hands them back to the
 * page cache during creation, which is free because the mapping is a read-only view of the file: a page read
 * again is mapped in again from the page cache or the file.
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

    /** How often pages are handed back while a session is created: less than a second of prepacking. */
    private static final long RELEASE_EVERY_MS = 50;

    private final Arena arena;
    private final MemorySegment mapping;
    private final Map<String, Weight> weights;
    private final List<OnnxTensor> tensors = new ArrayList<>();
    private boolean closed;

    QuantizedWeights(Arena arena, MemorySegment mapping, List<Weight> weights) {
        this.arena = arena;
        this.mapping = mapping;
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

    /**
     * Runs {@code creation} (the session's creation, which reads and prepacks these weights) while a background
     * thread hands the mapping's resident pages back to the page cache every {@value #RELEASE_EVERY_MS} ms, and
     * once more when it returns. Pages still to be read are mapped in again on their first read.
     */
    public <T, E extends Exception> T releasePagesWhile(Creation<T, E> creation) throws E {
        Thread releaser = Thread.ofPlatform().daemon().name("quantized-weights-release").start(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(RELEASE_EVERY_MS);
                    releasePages();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            return creation.run();
        } finally {
            releaser.interrupt();
            try {
                releaser.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            releasePages();
        }
    }

    /** The work {@link #releasePagesWhile} wraps. */
    @FunctionalInterface
    public interface Creation<T, E extends Exception> {
        T run() throws E;
    }

    /** Hands the mapping's resident pages back to the page cache (madvise DONTNEED on Linux). */
    private synchronized void releasePages() {
        if (!closed) {
            mapping.unload();
        }
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
