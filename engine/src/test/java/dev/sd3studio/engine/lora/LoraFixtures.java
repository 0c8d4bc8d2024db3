package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.model.Component;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** LoRA selections against the tiny-sd3 fixture's component graphs. */
final class LoraFixtures {
    private LoraFixtures() {
    }

    static LoraSelection.Graphs graphs(Path model) {
        Map<Component, OnnxWeights> cache = new EnumMap<>(Component.class);
        return c -> {
            Path f = model.resolve(c.folder()).resolve("model.onnx");
            if (!Files.isRegularFile(f)) {
                return Optional.empty();
            }
            OnnxWeights w = cache.get(c);
            if (w == null) {
                w = OnnxWeights.read(f);
                cache.put(c, w);
            }
            return Optional.of(w);
        };
    }

    static LoraSelection select(LoraSpec... specs) throws EngineException {
        return LoraSelection.select(List.of(specs), graphs(Fixtures.model("tiny-sd3")));
    }

    static LoraSpec golden(String caseName, double scale) {
        return new LoraSpec(LoraTestFiles.caseDir(caseName).resolve("lora.safetensors"), scale);
    }
}
