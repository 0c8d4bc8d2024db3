package dev.sd3studio.engine.graph;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import dev.sd3studio.engine.runtime.OrtRuntime;
import ai.onnxruntime.OrtSession;
import dev.sd3studio.engine.checkpoint.WeightRef;
import dev.sd3studio.engine.format.ElementDecoder;
import dev.sd3studio.engine.format.SafetensorsDType;
import dev.sd3studio.engine.format.SafetensorsHeader;
import dev.sd3studio.engine.format.StoredTensor;
import dev.sd3studio.engine.format.TestSafetensors;
import dev.sd3studio.engine.format.TestSafetensors.Tensor;
import dev.sd3studio.engine.onnx.ModelProto;
import dev.sd3studio.engine.onnx.TensorProto.DataType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A graph written with the generated ONNX classes loads in ONNX Runtime from bytes, its weights read in
 * place from a safetensors file (in a subfolder, at offsets no alignment rule favours) and widened by Casts:
 * the product equals the one computed from the decoded weights (to float rounding) for every stored type.
 */
class ExternalWeightsSessionTest {
    private static final String FOLDER_OPTION = "session.model_external_initializers_file_folder_path";
    private static final int IN = 5;
    private static final int OUT = 3;

    @TempDir
    Path tmp;

    @Test
    void gemmOnWeightsInASafetensorsFileMatchesTheDecodedWeightsForEveryFloatType() throws Exception {
        Random random = new Random(7);
        byte[] f8 = new byte[OUT * IN];
        byte[] f8e5 = new byte[OUT * IN];
        for (int i = 0; i < f8.length; i++) {
            f8[i] = finiteCode(random, 0x7f, 0x7f);  // E4M3FN: only S.1111.111 is not finite
            f8e5[i] = finiteCode(random, 0x7c, 0x7c); // E5M2: exponent 11111 is inf or NaN
        }
        float[] values = new float[OUT * IN];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        byte[] bf16 = new byte[OUT * IN * 2];
        for (int i = 0; i < values.length; i++) {
            int bits = Float.floatToRawIntBits(values[i]) >>> 16;
            bf16[2 * i] = (byte) bits;
            bf16[2 * i + 1] = (byte) (bits >>> 8);
        }
        Path file = TestSafetensors.write(tmp.resolve("text_encoders/weights.safetensors"), List.of(
                Tensor.f32("w_f32", values, OUT, IN),
                Tensor.f16("w_f16", values, OUT, IN),
                new Tensor("w_bf16", "BF16", new long[] {OUT, IN}, bf16),
                new Tensor("w_f8", "F8_E4M3", new long[] {OUT, IN}, f8),
                new Tensor("w_f8e5", "F8_E5M2", new long[] {OUT, IN}, f8e5),
                Tensor.f16("bias", new float[] {0.5f, -1f, 2f}, OUT)), 3);
        SafetensorsHeader header = SafetensorsHeader.read(file, "test file");
        assertTrue(header.tensors().get("w_f16").offset() % 8 != 0, "the test should exercise an unaligned offset");

        float[] x = new float[2 * IN];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] bias = decode(header.tensors().get("bias"), file);
        OrtEnvironment env = OrtRuntime.environment(); // the process's one environment, as every session gets it
        {
            for (String name : List.of("w_f32", "w_f16", "w_bf16", "w_f8", "w_f8e5")) {
                StoredTensor w = header.tensors().get(name);
                GraphBuilder g = new GraphBuilder("linear", tmp);
                String in = g.input("x", DataType.FLOAT, "rows", (long) IN);
                String y = g.node("Gemm", List.of(in, g.weight(name, ref(w, file)),
                        g.weight("bias", ref(header.tensors().get("bias"), file))), Attr.i("transB", 1));
                g.identity(y, "y");
                g.output("y", DataType.FLOAT, "rows", (long) OUT);
                ModelProto model = g.build();

                float[] got = run(env, model.toByteArray(), x);
                float[] weights = decode(w, file);
                float[] expected = new float[2 * OUT];
                for (int r = 0; r < 2; r++) {
                    for (int o = 0; o < OUT; o++) {
                        double s = 0;
                        for (int i = 0; i < IN; i++) {
                            s += (double) x[r * IN + i] * weights[o * IN + i];
                        }
                        expected[r * OUT + o] = (float) s + bias[o];
                    }
                }
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], got[i], 1e-4f * Math.max(1, Math.abs(expected[i])), name + " element " + i);
                }
            }
        }
        assertEquals("text_encoders/weights.safetensors", locationOf(tmp, file, header));
    }

    @Test
    void theModelRoundTripsThroughTheGeneratedClassesLikeAnExportedOne() throws Exception {
        Path onnx = dev.sd3studio.engine.Fixtures.model("tiny-sd3").resolve("text_encoder/model.onnx");
        byte[] bytes = Files.readAllBytes(onnx);
        ModelProto model = ModelProto.parseFrom(bytes);
        assertTrue(model.getGraph().getNodeCount() > 10, "nodes: " + model.getGraph().getNodeCount());
        assertTrue(model.getOpsetImportCount() > 0);
        assertEquals(model, ModelProto.parseFrom(model.toByteArray()));
    }

    private static byte finiteCode(Random random, int mask, int special) {
        int code;
        do {
            code = random.nextInt(256);
        } while ((code & mask) == special);
        return (byte) code;
    }

    private static String locationOf(Path folder, Path file, SafetensorsHeader header) {
        GraphBuilder g = new GraphBuilder("g", folder);
        g.weight("w", ref(header.tensors().get("w_f32"), file));
        return g.build().getGraph().getInitializer(0).getExternalDataList().stream()
                .filter(e -> e.getKey().equals("location")).findFirst().orElseThrow().getValue();
    }

    private static WeightRef ref(StoredTensor t, Path file) {
        return new WeightRef(file, t.offset(), t.length(), t.dtype(), t.shape());
    }

    private static float[] decode(StoredTensor t, Path file) throws Exception {
        byte[] all = Files.readAllBytes(file);
        float[] out = new float[(int) t.elements()];
        ElementDecoder.decode(t.dtype(), ByteBuffer.wrap(all, (int) t.offset(), (int) t.length()), out);
        return out;
    }

    private float[] run(OrtEnvironment env, byte[] model, float[] x) throws Exception {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.addConfigEntry(FOLDER_OPTION, tmp.toString());
            try (OrtSession session = env.createSession(model, options);
                 OnnxTensor input = OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(x), new long[] {2, IN});
                 OrtSession.Result result = session.run(Map.of("x", input))) {
                float[][] y = (float[][]) result.get(0).getValue();
                float[] flat = new float[2 * OUT];
                for (int r = 0; r < 2; r++) {
                    System.arraycopy(y[r], 0, flat, r * OUT, OUT);
                }
                return flat;
            }
        }
    }
}
