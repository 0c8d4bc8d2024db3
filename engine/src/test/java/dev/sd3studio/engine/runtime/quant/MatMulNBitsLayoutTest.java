package dev.sd3studio.engine.runtime.quant;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.sd3studio.engine.onnx.GraphProto;
import dev.sd3studio.engine.onnx.ModelProto;
import dev.sd3studio.engine.onnx.NodeProto;
import dev.sd3studio.engine.onnx.OperatorSetIdProto;
import dev.sd3studio.engine.onnx.TensorProto;
import dev.sd3studio.engine.onnx.TensorShapeProto;
import dev.sd3studio.engine.onnx.TypeProto;
import dev.sd3studio.engine.onnx.ValueInfoProto;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pins the block layout against ONNX Runtime: a random weight quantized here and run by one
 * {@code MatMulNBits} node gives what this side's dequantized weight times the input gives, within
 * float32 rounding (so the packing, nibble order, scales and zero points are read as they were written),
 * and the dequantized weight is close to the original (so the quantization itself is sound).
 */
class MatMulNBitsLayoutTest {
    @ParameterizedTest(name = "bits {0}, block {1}, K {2}, N {3}")
    @CsvSource({"4, 32, 100, 24", "8, 32, 100, 24", "4, 64, 200, 17", "8, 128, 300, 40", "4, 16, 48, 8"})
    void ortReadsTheLayoutAsWritten(int bits, int blockSize, int k, int n) throws Exception {
        Random random = new Random(bits * 1000L + k);
        float[] weight = new float[k * n];
        for (int i = 0; i < weight.length; i++) {
            weight[i] = (float) random.nextGaussian() * 0.05f + (i % 7 == 0 ? 0.03f : 0f);
        }
        BlockLayout layout = new BlockLayout(k, n, bits, blockSize);
        ByteBuffer packed = ByteBuffer.allocate((int) layout.packedBytes());
        ByteBuffer scales = ByteBuffer.allocate((int) layout.scaleCount() * 4).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer zeroPoints = ByteBuffer.allocate((int) layout.zeroPointBytes());
        BlockQuantizer.quantize(weight, true, layout, packed, scales, zeroPoints);
        packed.flip();
        scales.flip();
        zeroPoints.flip();
        float[] dequantized = BlockQuantizer.dequantize(layout, packed, scales, zeroPoints);

        // the quantization error stays within half a step of each block
        double maxStep = 0;
        for (int i = 0; i < layout.scaleCount(); i++) {
            maxStep = Math.max(maxStep, scales.getFloat(i * 4));
        }
        for (int i = 0; i < weight.length; i++) {
            assertTrue(Math.abs(weight[i] - dequantized[i]) <= maxStep * 0.5 + 1e-7,
                    "value " + i + ": " + weight[i] + " came back as " + dequantized[i]);
        }

        int m = 5;
        float[] a = new float[m * k];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
        }
        float[] ort = run(layout, packed, scales, zeroPoints, a, m);
        for (int row = 0; row < m; row++) {
            for (int col = 0; col < n; col++) {
                double expected = 0;
                double magnitude = 0;
                for (int i = 0; i < k; i++) {
                    expected += (double) a[row * k + i] * dequantized[i * n + col];
                    magnitude += Math.abs((double) a[row * k + i] * dequantized[i * n + col]);
                }
                double got = ort[row * n + col];
                // float32 accumulation of k products: a few ulps of the magnitude
                assertEquals(expected, got, magnitude * 1e-5 + 1e-6, "row " + row + ", column " + col);
            }
        }
    }

    private static float[] run(BlockLayout layout, ByteBuffer packed, ByteBuffer scales, ByteBuffer zeroPoints,
                               float[] a, int m) throws Exception {
        GraphProto graph = GraphProto.newBuilder().setName("nbits")
                .addNode(NodeProto.parseFrom(QuantizedGraph.matMulNBits("mm", "A", "B", "scales", "zp", "Y",
                        layout, 0)))
                .addInitializer(tensor("B", TensorProto.DataType.UINT8_VALUE, packed,
                        layout.n(), layout.blocks(), layout.blobBytes()))
                .addInitializer(tensor("scales", TensorProto.DataType.FLOAT_VALUE, scales, layout.scaleCount()))
                .addInitializer(tensor("zp", TensorProto.DataType.UINT8_VALUE, zeroPoints, layout.zeroPointBytes()))
                .addInput(value("A", m, layout.k()))
                .addOutput(value("Y", m, layout.n()))
                .build();
        ModelProto model = ModelProto.newBuilder().setIrVersion(9).setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1))
                .build();
        var env = OrtRuntime.environment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(model.toByteArray(), options);
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(a), new long[] {m, layout.k()});
             OrtSession.Result result = session.run(Map.of("A", input))) {
            FloatBuffer y = ((OnnxTensor) result.get(0)).getFloatBuffer();
            float[] out = new float[y.remaining()];
            y.get(out);
            return out;
        }
    }

    private static TensorProto tensor(String name, int type, ByteBuffer data, long... dims) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(type)
                .setRawData(ByteString.copyFrom(data.duplicate().rewind()));
        for (long d : dims) {
            b.addDims(d);
        }
        return b.build();
    }

    private static ValueInfoProto value(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }
}
