package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.ModelCopies;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.GenerationResult;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.runtime.Fp16Weights;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tiny SD3 fixture converted to fp16 here, at test time (every weight matrix stored as fp16, and
 * every float input and output of every component fp16, as in an fp16 export), generates a golden
 * case end to end within 1e-2 of the reference image, the bound the engine holds fp16 exports to.
 * It runs through the engine's fp16 boundary conversion and {@code Fp16CpuGraph}'s rewrite, which
 * keeps the weights fp16 and widens each one just before its use.
 */
class Fp16WeightsEndToEndTest {
    private static final List<String> COMPONENTS = List.of("text_encoder", "text_encoder_2", "text_encoder_3",
            "transformer", "vae_decoder");

    @Test
    void anFp16ModelMatchesTheGoldenImage(@TempDir Path tmp) throws Exception {
        Path base = Fixtures.model("tiny-sd3");
        Map<String, byte[]> converted = new HashMap<>();
        int weights = 0;
        for (String c : COMPONENTS) {
            Path file = base.resolve(c).resolve("model.onnx");
            Fp16Weights.Result r = Fp16Weights.convert(Files.readAllBytes(file), true);
            assertTrue(r.converted() > 0 && r.model().length < Files.size(file) * 0.8,
                    c + ": " + r.converted() + " weights converted, " + r.model().length + " bytes");
            converted.put(c + "/model.onnx", r.model());
            weights += r.converted();
        }
        Path model = ModelCopies.withFiles(base, tmp.resolve("tiny-sd3-fp16"), converted);
        try (OnnxModel transformer = OnnxModel.open(new OrtRuntime(Device.CPU, 1), "transformer",
                model.resolve("transformer/model.onnx"))) {
            assertTrue(transformer.isHalf("hidden_states"), "the converted transformer takes fp16");
        }
        Path golden = Fixtures.goldens().resolve("sd3_cfg7_default");
        try (Sd3Pipeline pipeline = Sd3Pipeline.open(model, EngineOptions.defaults())) {
            GenerationResult result = pipeline.generate(Fixtures.request(golden, true), new ProgressListener() {
            }, CancelToken.none());
            float err = Fixtures.tensor(golden, "image").maxAbsDifference(result.images());
            System.out.printf("fp16 model (%d weight matrices, fp16 inputs and outputs): max abs difference from the golden image %.2e%n", weights, err);
            assertTrue(err < 1e-2f, "max abs difference " + err);
            assertTrue(err > 0f, "the converted weights were used (an identical image means they were not)");
        } finally {
            ModelCopies.unlink(model);
        }
    }
}
