import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Runs two or more ONNX models on the same seeded random inputs and prints the largest absolute
 * difference of each common output to the first model's. Used by verify_replication.py.
 * Usage: java -cp onnxruntime.jar OrtCompare.java A.onnx B.onnx [name=d0,d1,...]...
 */
public class OrtCompare {
    public static void main(String[] args) throws Exception {
        List<String> models = new ArrayList<>();
        Map<String, long[]> dims = new HashMap<>();
        for (String a : args) {
            if (a.contains("=")) {
                String[] kv = a.split("=");
                String[] parts = kv[1].split(",");
                long[] shape = new long[parts.length];
                for (int i = 0; i < parts.length; i++) shape[i] = Long.parseLong(parts[i]);
                dims.put(kv[0], shape);
            } else {
                models.add(a);
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, float[]> reference = null;
        StringBuilder out = new StringBuilder();
        for (String path : models) {
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                 OrtSession s = env.createSession(path, o)) {
                Map<String, OnnxTensor> inputs = new HashMap<>();
                Random rnd = new Random(42);
                for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) {
                    TensorInfo ti = (TensorInfo) e.getValue().getInfo();
                    long[] shape = dims.get(e.getKey());
                    int n = 1;
                    for (long d : shape) n *= (int) d;
                    if (ti.type == OnnxJavaType.INT64) {
                        long[] v = new long[n];
                        for (int i = 0; i < n; i++) v[i] = rnd.nextInt(1000);
                        inputs.put(e.getKey(), OnnxTensor.createTensor(env, LongBuffer.wrap(v), shape));
                    } else {
                        float[] v = new float[n];
                        for (int i = 0; i < n; i++) v[i] = e.getKey().equals("timestep") ? 500f : (float) rnd.nextGaussian();
                        if (ti.type == OnnxJavaType.FLOAT16) {
                            ByteBuffer b = ByteBuffer.allocateDirect(2 * n).order(ByteOrder.nativeOrder());
                            for (float f : v) b.putShort(Float.floatToFloat16(f));
                            b.rewind();
                            inputs.put(e.getKey(), OnnxTensor.createTensor(env, b, shape, OnnxJavaType.FLOAT16));
                        } else {
                            inputs.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(v), shape));
                        }
                    }
                }
                Map<String, float[]> values = new HashMap<>();
                try (OrtSession.Result r = s.run(inputs)) {
                    for (Map.Entry<String, ai.onnxruntime.OnnxValue> e : r) {
                        OnnxTensor t = (OnnxTensor) e.getValue();
                        float[] f;
                        if (t.getInfo().type == OnnxJavaType.FLOAT16) {
                            ByteBuffer b = t.getByteBuffer().order(ByteOrder.nativeOrder());
                            f = new float[b.remaining() / 2];
                            for (int i = 0; i < f.length; i++) f[i] = Float.float16ToFloat(b.getShort());
                        } else {
                            FloatBuffer b = t.getFloatBuffer();
                            f = new float[b.remaining()];
                            b.get(f);
                        }
                        values.put(e.getKey(), f);
                    }
                }
                inputs.values().forEach(OnnxTensor::close);
                if (reference == null) {
                    reference = values;
                    continue;
                }
                int common = 0;
                double worst = 0, scale = 0;
                boolean finite = true;
                for (Map.Entry<String, float[]> e : values.entrySet()) {
                    float[] ref = reference.get(e.getKey());
                    if (ref == null) continue;
                    common++;
                    for (int i = 0; i < ref.length; i++) {
                        worst = Math.max(worst, Math.abs(ref[i] - e.getValue()[i]));
                        scale = Math.max(scale, Math.abs(ref[i]));
                        finite &= Float.isFinite(e.getValue()[i]);
                    }
                }
                if (common != reference.size()) throw new IllegalStateException("outputs differ: " + values.keySet());
                out.append(String.format("outputs=%d max_abs_diff=%.3g max_abs=%.3g finite=%s", common, worst, scale, finite));
            }
        }
        System.out.println(out);
    }
}
