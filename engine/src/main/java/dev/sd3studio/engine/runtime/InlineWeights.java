package dev.sd3studio.engine.runtime;

import dev.sd3studio.engine.format.ProtoFields.Field;

import java.util.List;

/** For graph rewrites outside this package: inline weights referenced in place in their model file. */
public final class InlineWeights {
    private InlineWeights() {
    }

    /** See {@link Fp16CpuGraph#referencedInPlace}: offsets must be those of the parsed model file. */
    public static byte[] referencedInPlace(List<Field> tensor, String fileName) {
        return Fp16CpuGraph.referencedInPlace(tensor, fileName);
    }
}
