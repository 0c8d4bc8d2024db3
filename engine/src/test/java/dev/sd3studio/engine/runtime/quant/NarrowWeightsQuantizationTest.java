package dev.sd3studio.engine.runtime.quant;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CheckpointFiles;
import dev.sd3studio.engine.graph.CheckpointModel;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.runtime.ComponentGraph;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * T5 weights stored as float8 (ComfyUI's t5xxl_fp8_e4m3fn) or bf16 (diffusers' bf16 variant), which the
 * checkpoint graph widens with a Cast before each layer, are quantized from their own values: the layers
 * become MatMulNBits and the encoder's output stays within int8's error of the stored graph's. Measured:
 * float8 0.0081, bf16 0.0075, and the float32 file (the reference case, quantized before too) 0.0078.
 */
class NarrowWeightsQuantizationTest {
    private static final String FOLDER_OPTION = "session.model_external_initializers_file_folder_path";
    /**
     * The tiny T5's linear layers are 32 × 48 (full-size ones are millions of weights, far above the default
     * threshold). Float32 compute, so that only the weights' rounding shows.
     */
    private static final QuantSettings TINY_LAYERS = new QuantSettings(8, 128, 1024, 0);

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd35-comfy-fp16-t5fp8/tiny-sd35.safetensors", "tiny-sd3-diffusers-bf16", "tiny-sd3-diffusers-fp32"})
    void narrowT5WeightsAreQuantizedFromTheirOwnValues(String name) throws Exception {
        CheckpointModel model = CheckpointModel.open(Fixtures.root().resolve("checkpoints").resolve(name), CheckpointFiles.NONE);
        ComponentGraph t5 = model.require(Component.TEXT_ENCODER_3, false);
        long[] ids = new long[2 * 40];
        Random random = new Random(7);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i % 40 == 39 ? 1 : 2 + random.nextInt(3000);
        }
        float[] stored = run(t5.built(), t5.weightFolder(), ids, null);
        QuantizedGraph.Rewritten quantized = QuantizedGraph.rewrite(ByteBuffer.wrap(t5.built()), t5.source(), false,
                TINY_LAYERS, layer -> false, new QuantCache(tmp), Map.of()).orElseThrow(
                        () -> new AssertionError(name + ": no layer of its T5 was quantized"));
        try (QuantizedWeights weights = quantized.weights()) {
            assertTrue(quantized.layers() >= 8, name + ": " + quantized.layers() + " layers quantized");
            float[] q = run(quantized.model(), t5.weightFolder(), ids, weights);
            double num = 0;
            double den = 0;
            for (int i = 0; i < q.length; i++) {
                num += (q[i] - stored[i]) * (double) (q[i] - stored[i]);
                den += stored[i] * (double) stored[i];
            }
            double error = Math.sqrt(num / den);
            System.out.printf("%s: T5 int8 from its stored values, %d layers, relative error %.5f%n", name,
                    quantized.layers(), error);
            assertTrue(error > 0 && error < 0.012, name + ": relative error " + error);
        }
    }

    private static float[] run(byte[] model, Path folder, long[] ids, QuantizedWeights weights) throws Exception {
        OrtEnvironment env = OrtRuntime.environment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.addConfigEntry(FOLDER_OPTION, folder.toString());
            if (weights != null) {
                weights.addTo(env, options);
            }
            try (OrtSession session = env.createSession(model, options);
                 OnnxTensor input = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {2, ids.length / 2});
                 OrtSession.Result result = session.run(Map.of("input_ids", input))) {
                FloatBuffer b = ((OnnxTensor) result.get(0)).getFloatBuffer();
                float[] values = new float[b.remaining()];
                b.get(values);
                return values;
            }
        }
    }
}
