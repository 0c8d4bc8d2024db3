package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.api.WeightPrecision;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OrtRuntime;
import dev.sd3studio.engine.runtime.quant.QuantCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A LoRA is merged before quantization: the quantized layer computes the merged weight, not the base one. */
class QuantizedMergeTest {
    @TempDir
    Path tmp;

    @Test
    void theQuantizedLayerCarriesTheLoraDelta() throws Exception {
        int in = 64;
        int out = 96;
        Random random = new Random(5);
        float[] w = new float[in * out];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian() * 0.1f;
        }
        Path model = TinyOnnx.linear(tmp.resolve("m"), "/proj/MatMul", w, in, out, true);
        float[] a = new float[in];
        float[] b = new float[out];
        for (int i = 0; i < in; i++) {
            a[i] = (float) random.nextGaussian() * 0.3f;
        }
        for (int i = 0; i < out; i++) {
            b[i] = (float) random.nextGaussian() * 0.3f;
        }
        Path lora = LoraTestFiles.writeF32(tmp.resolve("l.safetensors"), Map.of(
                "transformer.proj.lora_A.weight", new LoraTestFiles.T(new long[] {1, in}, a),
                "transformer.proj.lora_B.weight", new LoraTestFiles.T(new long[] {out, 1}, b)));
        OnnxWeights graph = OnnxWeights.read(model);
        float[] x = new float[in];
        for (int i = 0; i < in; i++) {
            x[i] = (float) random.nextGaussian();
        }
        FloatTensor input = new FloatTensor(new long[] {1, in}, x);
        OrtRuntime stored = new OrtRuntime(Device.CPU, 1);
        QuantCache cache = new QuantCache(tmp.resolve("cache"));
        OrtRuntime int8 = new OrtRuntime(Device.CPU, 1, WeightPrecision.INT8, cache);
        try (LoraSelection s = LoraSelection.select(List.of(new LoraSpec(lora, 1.0)),
                c -> c == Component.TRANSFORMER ? Optional.of(graph) : Optional.empty())) {
            float[] mergedFloat;
            float[] mergedQuantized;
            float[] baseQuantized;
            try (OnnxModel m = OnnxModel.open(stored, "transformer", model,
                    LoraMerge.merge(s.plan(Component.TRANSFORMER).contributions()))) {
                mergedFloat = run(m, input);
            }
            try (OnnxModel m = OnnxModel.open(int8, "transformer", model,
                    LoraMerge.merge(s.plan(Component.TRANSFORMER).contributions()))) {
                mergedQuantized = run(m, input);
            }
            assertEquals(QuantCache.Outcome.UNCACHED, cache.lastOutcome(), "merged weights are not cached");
            try (OnnxModel m = OnnxModel.open(int8, "transformer", model)) {
                baseQuantized = run(m, input);
            }
            double quantError = relative(mergedFloat, mergedQuantized);
            double loraEffect = relative(mergedFloat, baseQuantized);
            assertTrue(quantError < 0.01, "int8 of the merged weight: relative error " + quantError);
            assertTrue(loraEffect > 0.1, "without the LoRA the output differs by " + loraEffect);
        }
    }

    private static double relative(float[] ref, float[] other) {
        double d = 0;
        double n = 0;
        for (int i = 0; i < ref.length; i++) {
            d += (ref[i] - other[i]) * (double) (ref[i] - other[i]);
            n += ref[i] * (double) ref[i];
        }
        return Math.sqrt(d / n);
    }

    private static float[] run(OnnxModel m, FloatTensor x) throws Exception {
        return m.run(Map.of("x", x), Map.of(), List.of("y"), CancelToken.none()).get("y").data();
    }
}
