package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.model.Component;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The merged weights reach ONNX Runtime as session initializers, with external data, and the file stays as it was. */
class MergedSessionTest {
    @TempDir
    Path tmp;

    @Test
    void mergedWeightsReplaceTheExternalTensorInMemoryOnly() throws Exception {
        float[] w = {1, 2, 3, 4, 5, 6};   // in × out = 2 × 3
        Path model = TinyOnnx.linear(tmp.resolve("m"), "/proj/MatMul", w, 2, 3, true);
        byte[] dataBefore = Files.readAllBytes(model.resolveSibling("model.onnx.data"));
        Path lora = LoraTestFiles.writeF32(tmp.resolve("l.safetensors"), Map.of(
                "transformer.proj.lora_A.weight", new LoraTestFiles.T(new long[] {1, 2}, new float[] {1, 0}),
                "transformer.proj.lora_B.weight", new LoraTestFiles.T(new long[] {3, 1}, new float[] {1, 2, 3})));
        OnnxWeights graph = OnnxWeights.read(model);
        OrtRuntime runtime = new OrtRuntime(Device.CPU, 1);
        FloatTensor x = new FloatTensor(new long[] {1, 2}, new float[] {1, 1});
        try (LoraSelection s = LoraSelection.select(List.of(new LoraSpec(lora, 0.5)),
                c -> c == Component.TRANSFORMER ? Optional.of(graph) : Optional.empty());
             OnnxModel merged = OnnxModel.open(runtime, "transformer", model,
                     LoraMerge.merge(s.plan(Component.TRANSFORMER).contributions()));
             OnnxModel base = OnnxModel.open(runtime, "transformer", model)) {
            // x @ W = [5, 7, 9]; delta (torch out × in) = 0.5 · B @ A = [[.5, 0], [1, 0], [1.5, 0]]
            assertArrayEquals(new float[] {5.5f, 8f, 10.5f}, run(merged, x));
            assertArrayEquals(new float[] {5, 7, 9}, run(base, x));
        }
        assertArrayEquals(dataBefore, Files.readAllBytes(model.resolveSibling("model.onnx.data")));
    }

    private static float[] run(OnnxModel m, FloatTensor x) throws Exception {
        return m.run(Map.of("x", x), Map.of(), List.of("y"), CancelToken.none()).get("y").data();
    }
}
