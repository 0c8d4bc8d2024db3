package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.lora.LoraSelection.Contribution;
import dev.sd3studio.engine.lora.OnnxWeights.Initializer;
import dev.sd3studio.engine.lora.OnnxWeights.Layout;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Merges LoRAs into one component's weights: W' = W + scale · (alpha / rank) · (B @ A), added in the
 * weight's stored layout (MatMul weights hold Wᵀ, so the delta goes in transposed). One weight at a time
 * is in the heap; the results go straight to native memory. Several LoRAs on one layer add up, in order.
 */
public final class LoraMerge {
    private static final int THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());

    private LoraMerge() {
    }

    public static MergedWeights merge(List<Contribution> contributions) throws EngineException {
        Map<String, List<Contribution>> byWeight = new LinkedHashMap<>();
        for (Contribution c : contributions) {
            byWeight.computeIfAbsent(c.weight().weight().name(), k -> new ArrayList<>()).add(c);
        }
        Arena arena = Arena.ofShared();
        List<List<Contribution>> groups = List.copyOf(byWeight.values());
        MergedWeights.Weight[] out = new MergedWeights.Weight[groups.size()];
        // Weights are independent: merge them on several cores, each holding one weight in the heap.
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(groups.size(), THREADS)))) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int g = 0; g < groups.size(); g++) {
                int index = g;
                jobs.add(pool.submit(() -> {
                    List<Contribution> group = groups.get(index);
                    Initializer init = group.getFirst().weight().weight();
                    float[] w = OnnxWeights.readFloats(init);
                    for (Contribution c : group) {
                        add(w, c);
                    }
                    out[index] = store(arena, init, w);
                    return null;
                }));
            }
            for (Future<?> job : jobs) {
                job.get();
            }
            return new MergedWeights(arena, List.of(out));
        } catch (ExecutionException e) {
            arena.close();
            if (e.getCause() instanceof EngineException ee) {
                throw ee;
            }
            if (e.getCause() instanceof OutOfMemoryError oom) {
                throw oom;
            }
            throw new EngineException(EngineException.Kind.INTERNAL, "LoRA merge failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            arena.close();
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.CANCELLED, "LoRA merge interrupted.", e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * The merged weight in the initializer's own type: ONNX Runtime takes a replacement only of the declared
     * type, and a checkpoint graph's Cast after the weight expects the stored one. Rounding to float16 or
     * bfloat16 costs what the stored model already does (half an ulp of the weight).
     */
    private static MergedWeights.Weight store(Arena arena, Initializer init, float[] w) {
        int type = init.dataType();
        boolean narrow = type != OnnxWeights.FLOAT;
        ByteBuffer b = arena.allocate((long) w.length * (narrow ? 2 : 4), 64).asByteBuffer().order(ByteOrder.nativeOrder());
        if (type == OnnxWeights.FLOAT16) {
            ShortBuffer s = b.asShortBuffer();
            for (float v : w) {
                s.put(Float.floatToFloat16(v));
            }
        } else if (type == OnnxWeights.BFLOAT16) {
            ShortBuffer s = b.asShortBuffer();
            for (float v : w) {
                s.put(toBfloat16(v));
            }
        } else {
            FloatBuffer f = b.asFloatBuffer();
            f.put(w);
        }
        return new MergedWeights.Weight(init.name(), init.dims().clone(), type, init.external(), b);
    }

    /** float32 to bfloat16, rounded to nearest even (NaN kept a NaN). */
    static short toBfloat16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** Adds one LoRA module's delta (its chunk of B's rows, halves swapped where needed) to w. */
    static void add(float[] w, Contribution c) throws EngineException {
        float[] a = c.file().reader().readFloats(c.module().down());
        float[] b = c.file().reader().readFloats(c.module().up());
        int rank = c.rank();
        int in = (int) c.weight().inFeatures();
        int out = (int) c.weight().outFeatures();
        int[] rows = rowsOfB(c, out);
        float factor = (float) c.factor();
        float[] acc;
        if (c.weight().layout() == Layout.IN_OUT) {
            // w[i][o] += factor · Σ_k A[k][i] · B[row(o)][k]; B transposed once so the inner loop runs along o.
            float[] bt = new float[rank * out];
            for (int o = 0; o < out; o++) {
                int r = rows[o] * rank;
                for (int k = 0; k < rank; k++) {
                    bt[k * out + o] = b[r + k];
                }
            }
            acc = new float[out];
            for (int i = 0; i < in; i++) {
                java.util.Arrays.fill(acc, 0f);
                for (int k = 0; k < rank; k++) {
                    float av = a[k * in + i];
                    int base = k * out;
                    for (int o = 0; o < out; o++) {
                        acc[o] += av * bt[base + o];
                    }
                }
                int base = i * out;
                for (int o = 0; o < out; o++) {
                    w[base + o] += factor * acc[o];
                }
            }
        } else {
            // w[o][i] += factor · Σ_k B[row(o)][k] · A[k][i]
            acc = new float[in];
            for (int o = 0; o < out; o++) {
                java.util.Arrays.fill(acc, 0f);
                int r = rows[o] * rank;
                for (int k = 0; k < rank; k++) {
                    float bv = b[r + k];
                    int base = k * in;
                    for (int i = 0; i < in; i++) {
                        acc[i] += bv * a[base + i];
                    }
                }
                int base = o * in;
                for (int i = 0; i < in; i++) {
                    w[base + i] += factor * acc[i];
                }
            }
        }
    }

    /**
     * Which row of B feeds each output: the target's chunk, with (shift, scale) halves swapped if asked. A weight
     * that is a row range of its layer (a built graph's modulation chunk) takes the rows of its range.
     */
    static int[] rowsOfB(Contribution c, int out) {
        int layerOut = (int) (c.file().shape(c.module().up())[0] / c.target().chunks());
        int[] rows = new int[out];
        boolean swap = c.target().swapIfTwoChunks() && layerOut == 2 * c.weight().inFeatures();
        int half = layerOut / 2;
        for (int o = 0; o < out; o++) {
            int r = (int) c.weight().firstRow() + o;
            int src = swap ? (r < half ? r + half : r - half) : r;
            rows[o] = c.target().chunk() * layerOut + src;
        }
        return rows;
    }
}
