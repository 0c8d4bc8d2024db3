package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.format.ProtoFields;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * fp16 exports on the CPU: each weight is widened right before the layer that uses it (not all of
 * them up front, as ORT's own casts ran), weights inside the file are read in place, the interface
 * stays fp16, and the result is closer to exact arithmetic than ORT's own handling of the file.
 */
class Fp16CpuGraphTest {
    private static final int LAYERS = 6;
    /** Above {@link Fp16CpuGraph#FOLD_LIMIT_BYTES} in float32, as real layers are, so the casts are not folded. */
    private static final int WIDTH = 768;
    private static final long[] IDS = {1, 5, 9, 15, 0, 3, 7, 2};

    @TempDir
    Path tmp;

    @Test
    void eachWeightIsWidenedJustBeforeItsLayer() throws Exception {
        Path model = OnnxTestModels.fp16Chain(tmp.resolve("chain"), LAYERS, WIDTH);
        List<String> order = kernelOrder(model);

        assertEquals(LAYERS, order.stream().filter("MatMul"::equals).count(), order.toString());
        // Before the first MatMul: the widened table rows and the first weight, nothing of later layers.
        int firstMatMul = order.indexOf("MatMul");
        long castsBefore = order.subList(0, firstMatMul).stream().filter("Cast"::equals).count();
        assertTrue(castsBefore <= 2, "weights widened ahead of their layer: " + order);
        // Between two MatMuls: the next layer's own weight cast only.
        int previous = firstMatMul;
        for (int i = firstMatMul + 1; i < order.size(); i++) {
            if (order.get(i).equals("MatMul")) {
                long casts = order.subList(previous, i).stream().filter("Cast"::equals).count();
                assertEquals(1, casts, "casts before a layer's MatMul: " + order);
                previous = i;
            }
        }
    }

    @Test
    void keepsTheFp16InterfaceAndComesCloserToExactThanOrtsOwnHandling() throws Exception {
        Path model = OnnxTestModels.fp16Chain(tmp.resolve("chain"), LAYERS, WIDTH);
        OrtEnvironment env = OrtRuntime.environment();

        // The rewrite itself must load: the runtime's fall-back to the file would hide a broken one.
        byte[] rewritten = Fp16CpuGraph.rewrite(model).orElseThrow();
        short[] ours;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            Fp16CpuGraph.configure(options, model.toAbsolutePath().getParent());
            try (OrtSession session = env.createSession(rewritten, options)) {
                TensorInfo out = (TensorInfo) session.getOutputInfo().get("last_hidden_state").getInfo();
                assertEquals(OnnxJavaType.FLOAT16, out.type);
                assertEquals(OnnxJavaType.INT64, ((TensorInfo) session.getInputInfo().get("input_ids").getInfo()).type);
                ours = run(env, session);
            }
        }
        short[] orts;
        try (OrtSession session = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
            orts = run(env, session);
        }
        double[] exact = exactChain(model.resolveSibling("model.onnx_data"));
        assertEquals(exact.length, ours.length);
        double oursOff = largestDifference(ours, exact);
        double ortsOff = largestDifference(orts, exact);
        // The rewrite rounds to fp16 only where the export stores values (weights, the output); ORT's
        // own handling also between nodes. So it is the closer one to exact arithmetic on the weights.
        assertTrue(oursOff <= 1e-3, "rewritten graph vs exact: " + oursOff);
        assertTrue(oursOff <= ortsOff, "rewritten " + oursOff + " vs ORT's own " + ortsOff);
    }

    @Test
    void initializersSuppliedAtOpenStillReplaceTheWeights() throws Exception {
        // LoRA-merged weights reach ORT this way (MergedInitializers), under the weights' own names.
        Path model = OnnxTestModels.fp16Chain(tmp.resolve("chain"), LAYERS, WIDTH);
        OrtEnvironment env = OrtRuntime.environment();
        java.nio.ByteBuffer zeros = java.nio.ByteBuffer.allocateDirect(WIDTH * WIDTH * 2)
                .order(java.nio.ByteOrder.nativeOrder());
        try (OnnxTensor w0 = OnnxTensor.createTensor(env, zeros, new long[] {WIDTH, WIDTH}, OnnxJavaType.FLOAT16)) {
            long rewritten = OrtRuntime.REWRITTEN_SESSIONS.get();
            OrtSession session = new OrtRuntime(Device.CPU, 1).open("text_encoder_3", model,
                    options -> options.addInitializer("w0", w0));
            try {
                assertEquals(rewritten + 1, OrtRuntime.REWRITTEN_SESSIONS.get(), "opened rewritten, not as the file");
                for (short value : run(env, session)) {
                    assertEquals(0f, Float.float16ToFloat(value), "a zero first layer zeroes the chain");
                }
            } finally {
                session.close();
                OrtRuntime.LIVE_SESSIONS.decrementAndGet();
            }
        }
    }

    @Test
    void weightsInsideTheModelFileAreReferencedInPlaceNotCopied() throws Exception {
        Path external = OnnxTestModels.fp16Chain(tmp.resolve("external"), LAYERS, WIDTH, false);
        Path inline = OnnxTestModels.fp16Chain(tmp.resolve("inline"), LAYERS, WIDTH, true);
        byte[] rewritten = Fp16CpuGraph.rewrite(inline).orElseThrow();
        assertTrue(rewritten.length < 8192, "weights copied into the rewrite: " + rewritten.length + " bytes of "
                + Files.size(inline));
        OrtEnvironment env = OrtRuntime.environment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            Fp16CpuGraph.configure(options, inline.toAbsolutePath().getParent());
            try (OrtSession fromInline = env.createSession(rewritten, options)) {
                short[] expected;
                try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                    Fp16CpuGraph.configure(o, external.toAbsolutePath().getParent());
                    try (OrtSession fromExternal = env.createSession(Fp16CpuGraph.rewrite(external).orElseThrow(), o)) {
                        expected = run(env, fromExternal);
                    }
                }
                assertArrayEquals(expected, run(env, fromInline), "the same weights, read in place");
            }
        }
    }

    @Test
    void fp16InputsAndOutputsAreCastAtTheEdges() throws Exception {
        Path model = OnnxTestModels.fp16Scale(tmp);
        OrtEnvironment env = OrtRuntime.environment();
        byte[] rewritten = Fp16CpuGraph.rewrite(model).orElseThrow();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            Fp16CpuGraph.configure(options, model.toAbsolutePath().getParent());
            try (OrtSession session = env.createSession(rewritten, options)) {
                assertEquals(OnnxJavaType.FLOAT16,
                        ((TensorInfo) session.getInputInfo().get("latent_sample").getInfo()).type);
                short[] x = {Float.floatToFloat16(0.25f), Float.floatToFloat16(-3f)};
                try (OnnxTensor in = OnnxTensor.createTensor(env, ShortBuffer.wrap(x), new long[] {1, 1, 1, 2},
                        OnnxJavaType.FLOAT16);
                     OrtSession.Result r = session.run(Map.of("latent_sample", in))) {
                    ShortBuffer out = ((OnnxTensor) r.get(0)).getShortBuffer();
                    assertEquals(1.5f, Float.float16ToFloat(out.get(0)));
                    assertEquals(-5f, Float.float16ToFloat(out.get(1)));
                }
            }
        }
    }

    @Test
    void leavesToOrtWhatItDoesNotRewrite() throws Exception {
        assertTrue(Fp16CpuGraph.rewrite(OnnxTestModels.externalScale(tmp.resolve("fp32"))).isEmpty(),
                "a float32 model has nothing to widen");
        Path corrupt = Files.write(tmp.resolve("corrupt.onnx"), new byte[] {0x3a, 0x7f, 0x01});
        assertTrue(Fp16CpuGraph.rewrite(corrupt).isEmpty(), "a corrupt file is left to ORT's own message");
        assertTrue(Fp16CpuGraph.rewrite(tmp.resolve("missing.onnx")).isEmpty());
    }

    @Test
    void fp16ConstantsBecomeFloat32() {
        short[] halves = {Float.floatToFloat16(0.5f), Float.floatToFloat16(-2f)};
        byte[] raw = {(byte) halves[0], (byte) (halves[0] >> 8), (byte) halves[1], (byte) (halves[1] >> 8)};
        byte[] tensor = ProtoFields.write(List.of(ProtoFields.Field.varint(1, 2), ProtoFields.Field.varint(2, 10),
                ProtoFields.Field.message(9, raw)));
        List<ProtoFields.Field> wide = ProtoFields.parse(Fp16CpuGraph.widenTensor(tensor));
        assertEquals(1, ProtoFields.firstVarint(wide, 2, 0));
        assertEquals(2, ProtoFields.firstVarint(wide, 1, 0));
        byte[] floats = wide.stream().filter(f -> f.is(9, ProtoFields.LENGTH)).findFirst().orElseThrow().bytes();
        java.nio.FloatBuffer fb = java.nio.ByteBuffer.wrap(floats).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] values = new float[fb.remaining()];
        fb.get(values);
        assertArrayEquals(new float[] {0.5f, -2f}, values);
    }

    /** The chain computed in double precision from the fp16 values in its data file (table, then w0, w1, ...). */
    private static double[] exactChain(Path data) throws java.io.IOException {
        ShortBuffer halves = java.nio.ByteBuffer.wrap(Files.readAllBytes(data))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        double[] out = new double[IDS.length * WIDTH];
        for (int t = 0; t < IDS.length; t++) {
            double[] h = new double[WIDTH];
            for (int j = 0; j < WIDTH; j++) {
                h[j] = Float.float16ToFloat(halves.get((int) IDS[t] * WIDTH + j));
            }
            for (int layer = 0; layer < LAYERS; layer++) {
                int base = 16 * WIDTH + layer * WIDTH * WIDTH;
                double[] next = new double[WIDTH];
                for (int k = 0; k < WIDTH; k++) {
                    for (int j = 0; j < WIDTH; j++) {
                        next[j] += h[k] * Float.float16ToFloat(halves.get(base + k * WIDTH + j));
                    }
                }
                for (int j = 0; j < WIDTH; j++) {
                    h[j] = Math.tanh(next[j]);
                }
            }
            for (int j = 0; j < WIDTH; j++) {
                out[t * WIDTH + j] = 0.5 * h[j];
            }
        }
        return out;
    }

    private static double largestDifference(short[] halves, double[] exact) {
        double worst = 0;
        for (int i = 0; i < exact.length; i++) {
            worst = Math.max(worst, Math.abs(Float.float16ToFloat(halves[i]) - exact[i]));
        }
        return worst;
    }

    /** The op types of the kernels one run executed, in order, from ORT's profile of a session the runtime opened. */
    private List<String> kernelOrder(Path model) throws Exception {
        OrtEnvironment env = OrtRuntime.environment();
        String prefix = tmp.resolve("profile").toString();
        OrtSession session = new OrtRuntime(Device.CPU, 1).open("text_encoder_3", model,
                options -> options.enableProfiling(prefix));
        Path profile;
        try {
            run(env, session);
            profile = Path.of(session.endProfiling());
        } finally {
            session.close();
            OrtRuntime.LIVE_SESSIONS.decrementAndGet();
        }
        List<String> ops = new ArrayList<>();
        for (JsonNode event : new ObjectMapper().readTree(profile.toFile())) {
            if ("Node".equals(event.path("cat").asText()) && event.path("name").asText().endsWith("_kernel_time")) {
                ops.add(event.path("args").path("op_name").asText());
            }
        }
        return ops;
    }

    private static short[] run(OrtEnvironment env, OrtSession session) throws OrtException {
        try (OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(IDS), new long[] {1, IDS.length});
             OrtSession.Result r = session.run(Map.of("input_ids", ids))) {
            ShortBuffer out = ((OnnxTensor) r.get(0)).getShortBuffer();
            short[] values = new short[out.remaining()];
            out.get(values);
            return values;
        }
    }
}
