package dev.sd3studio.engine.lora;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The weights a set of LoRAs changed in one component, each the whole initializer in its stored type
 * and layout, in native memory that is freed at {@link #close()} (not when the GC gets round to it).
 * The session built with them must be closed first: ONNX Runtime reads these buffers in place.
 */
public final class MergedWeights implements AutoCloseable {
    /**
     * One replaced initializer. {@code dataType}: its ONNX type, float32, float16 or bfloat16, as the graph declares
     * it. {@code external}: the model keeps it in an external data file (ONNX Runtime replaces those and inline
     * ones through different calls).
     */
    public record Weight(String name, long[] dims, int dataType, boolean external, ByteBuffer data) {
        public boolean half() {
            return dataType == OnnxWeights.FLOAT16;
        }
    }

    private final Arena arena;
    private final List<Weight> weights;
    private boolean closed;

    MergedWeights(Arena arena, List<Weight> weights) {
        this.arena = arena;
        this.weights = List.copyOf(weights);
    }

    public List<Weight> weights() {
        return weights;
    }

    public long bytes() {
        return weights.stream().mapToLong(w -> w.data().capacity()).sum();
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
