package dev.sd3studio.engine.vae;

import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.api.Sd3Generator;
import dev.sd3studio.engine.runtime.OnnxTestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Black and white are not results: the engine refuses NaN, ±inf and blank decoder output before
 * clamping, with a named error, so neither the command line nor the studio can save it.
 */
class DecodedImagePolicyTest {
    private static final Path DEMO = Path.of("../assets/models/sd3-demo").toAbsolutePath().normalize();

    @Test
    void aDecoderThatReturnsMinusInfinityPlusInfinityNaNOrConstantMinusOneFailsTheGeneration(@TempDir Path tmp)
            throws Exception {
        for (float poison : new float[] {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -1f}) {
            Path model = withDecoder(tmp.resolve("m" + Float.floatToIntBits(poison)), poison);
            try (Sd3Generator g = Sd3Engine.open(model, EngineOptions.defaults())) {
                GenerationRequest r = GenerationRequest.builder("a red circle").optSteps(1).optSeed(1L).build();
                EngineException e = assertThrows(EngineException.class,
                        () -> g.generate(r, ProgressListener.NONE, CancelToken.none()), "decoder output " + poison);
                assertEquals(EngineException.Kind.NUMERIC_OVERFLOW, e.kind(), e.getMessage());
                assertTrue(e.getMessage().contains(poison == -1f ? "blank picture (every pixel black)" : "infinite"),
                        e.getMessage());
            } finally {
                unlink(model);
            }
        }
    }

    @Test
    void theRuleLooksAtRawValuesBeforeClamping() {
        float[] white = new float[3 * 4 * 4];
        Arrays.fill(white, Float.POSITIVE_INFINITY);
        assertTrue(assertThrows(EngineException.class, () -> DecodedImagePolicy.check(image(white), -1))
                .getMessage().contains("infinite"));
        float[] saturated = new float[3 * 4 * 4];
        Arrays.fill(saturated, -7f);
        saturated[5] = -3f; // different raw values, all black once clamped
        assertTrue(assertThrows(EngineException.class, () -> DecodedImagePolicy.check(image(saturated), 1))
                .getMessage().contains("blank picture 2 (every pixel black)"));
        float[] dark = new float[3 * 4 * 4];
        Arrays.fill(dark, -1f);
        dark[7] = -0.99f; // one pixel not quite black: a picture
        assertDoesNotThrow(() -> DecodedImagePolicy.check(image(dark), -1));
    }

    private static FloatTensor image(float[] v) {
        return new FloatTensor(new long[] {1, 3, 4, 4}, v);
    }

    /** Removes the links, so that cleaning the temporary folder never reaches the demo model. */
    static void unlink(Path dir) throws Exception {
        try (Stream<Path> parts = Files.list(dir)) {
            for (Path p : parts.filter(Files::isSymbolicLink).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The demo model (linked, not copied) with its VAE decoder replaced by one returning {@code value}. */
    static Path withDecoder(Path dir, float value) throws Exception {
        Files.createDirectories(dir);
        try (Stream<Path> parts = Files.list(DEMO)) {
            for (Path p : parts.toList()) {
                if (!p.getFileName().toString().equals("vae_decoder")) {
                    Files.createSymbolicLink(dir.resolve(p.getFileName()), p);
                }
            }
        }
        Path decoder = Files.createDirectories(dir.resolve("vae_decoder"));
        Files.copy(DEMO.resolve("vae_decoder/config.json"), decoder.resolve("config.json"));
        OnnxTestModels.constantDecoder(decoder.resolve("model.onnx"), value);
        return dir;
    }
}
