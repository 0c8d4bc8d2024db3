package dev.sd3studio.engine.model;

import dev.sd3studio.engine.api.ModelReport;
import dev.sd3studio.engine.ModelCopies;
import dev.sd3studio.engine.Sd3Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** check-model says "usable" only when generation could open every part (it said so for 30 broken folders). */
class ModelCheckHonestyTest {
    private static final Path DEMO = Path.of("../assets/models/sd3-demo").toAbsolutePath().normalize();

    @Test
    void brokenFoldersAreNotUsable(@TempDir Path tmp) throws Exception {
        assertTrue(Sd3Engine.check(DEMO).usable(), "the demo model itself");
        Map<String, byte[]> broken = new LinkedHashMap<>();
        broken.put("vae_decoder/model.onnx", Files.readAllBytes(DEMO.resolve("text_encoder/model.onnx")));
        broken.put("text_encoder/model.onnx", Files.readAllBytes(DEMO.resolve("vae_decoder/model.onnx")));
        broken.put("transformer/config.json", "{\"patch_size\": 0}".getBytes());
        broken.put("scheduler/scheduler_config.json", "{ not json".getBytes());
        broken.put("tokenizer/vocab.json", "[".getBytes());
        broken.put("tokenizer_3/tokenizer.json", null);
        int i = 0;
        for (Map.Entry<String, byte[]> b : broken.entrySet()) {
            Path model = ModelCopies.withFile(DEMO, tmp.resolve("m" + i++), b.getKey(), b.getValue());
            try {
                ModelReport r = Sd3Engine.check(model);
                assertFalse(r.usable(), b.getKey() + " broken, yet usable: " + r.parts());
            } finally {
                ModelCopies.unlink(model);
            }
        }
    }
}
