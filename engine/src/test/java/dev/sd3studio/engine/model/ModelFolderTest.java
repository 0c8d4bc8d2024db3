package dev.sd3studio.engine.model;

import dev.sd3studio.engine.api.ModelReport;
import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.EngineException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layout detection looks at files only: Optimum, TensorStack, and what is not a model. */
class ModelFolderTest {
    @Test
    void optimumLayoutIsRecognised() throws EngineException {
        ModelFolder f = ModelFolder.detect(Fixtures.model("tiny-sd3"));
        assertEquals(ModelFolder.Layout.OPTIMUM, f.layout());
        assertTrue(f.modelFile(Component.TRANSFORMER).isPresent());
        assertTrue(f.modelFile(Component.TEXT_ENCODER_3).isPresent());
    }

    @Test
    void tensorStackLayoutKeepsTheMmditInUnet(@TempDir Path tmp) throws Exception {
        Files.createDirectories(tmp.resolve("unet"));
        Files.writeString(tmp.resolve("unet/model.onnx"), "x");
        Files.createDirectories(tmp.resolve("vae_decoder"));
        ModelFolder f = ModelFolder.detect(tmp);
        assertEquals(ModelFolder.Layout.TENSORSTACK, f.layout());
        assertEquals(tmp.resolve("unet/model.onnx"), f.requireModelFile(Component.TRANSFORMER));
    }

    @Test
    void missingFolderIsNamed(@TempDir Path tmp) {
        EngineException e = assertThrows(EngineException.class, () -> ModelFolder.detect(tmp.resolve("nope")));
        assertEquals(EngineException.Kind.MODEL_NOT_FOUND, e.kind());
        assertTrue(e.getMessage().contains("nope"));
    }

    @Test
    void aFileIsNotAModelFolder(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("model.onnx"), "x");
        assertEquals(EngineException.Kind.MODEL_NOT_FOUND,
                assertThrows(EngineException.class, () -> ModelFolder.detect(file)).kind());
    }

    @Test
    void anUnrelatedFolderIsAnUnknownLayout(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("readme.txt"), "photos");
        EngineException e = assertThrows(EngineException.class, () -> ModelFolder.detect(tmp));
        assertEquals(EngineException.Kind.UNKNOWN_LAYOUT, e.kind());
        assertTrue(e.getMessage().contains("Optimum"), e.getMessage());
    }

    @Test
    void aMissingTransformerSaysWhatToFetch(@TempDir Path tmp) throws Exception {
        Files.createDirectories(tmp.resolve("text_encoder"));
        ModelFolder f = ModelFolder.detect(tmp);
        EngineException e = assertThrows(EngineException.class, () -> f.requireModelFile(Component.TRANSFORMER));
        assertEquals(EngineException.Kind.MISSING_COMPONENT, e.kind());
        assertTrue(e.getMessage().contains("transformer/model.onnx"), e.getMessage());
    }

    @Test
    void configsComeFromTheFolder() throws EngineException {
        ModelFolder f = ModelFolder.detect(Fixtures.model("tiny-sd3"));
        TransformerConfig t = TransformerConfig.read(f.configOf(Component.TRANSFORMER));
        assertEquals(8, t.sampleSize());
        assertEquals(32, t.jointAttentionDim());
        VaeConfig v = VaeConfig.read(f.configOf(Component.VAE_DECODER));
        assertEquals(1.5305, v.scalingFactor(), 1e-12);
        assertEquals(8, v.scaleFactor());
        assertEquals(3.0, f.schedulerConfig().shift());
    }

    @Test
    void checkModelReportsEachPart() throws EngineException {
        ModelReport r = ModelCheck.check(Fixtures.model("tiny-sd3"));
        assertTrue(r.usable());
        ModelReport.Part transformer = r.parts().stream().filter(p -> p.name().equals("transformer")).findFirst().orElseThrow();
        assertEquals(ModelReport.Status.FOUND, transformer.status());
        assertTrue(transformer.inputs().stream().anyMatch(i -> i.startsWith("encoder_hidden_states float")), transformer.inputs().toString());
    }
}
