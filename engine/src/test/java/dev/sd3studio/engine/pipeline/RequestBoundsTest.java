package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.model.TransformerConfig;
import dev.sd3studio.engine.model.VaeConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Absurd numbers are named request or model errors, not overflows, hours of work or nonsense hints. */
class RequestBoundsTest {
    private static Sd3Pipeline engine;

    @BeforeAll
    static void open() throws EngineException {
        engine = Sd3Pipeline.open(Fixtures.model("tiny-sd3"), EngineOptions.defaults());
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static EngineException invalid(GenerationRequest.Builder r) {
        EngineException e = assertThrows(EngineException.class,
                () -> engine.generate(r.optSeed(1L).build(), ProgressListener.NONE, CancelToken.none()));
        assertEquals(Kind.INVALID_REQUEST, e.kind(), e.getMessage());
        return e;
    }

    @Test
    void stepsHaveAnUpperBound() {
        assertTrue(invalid(GenerationRequest.builder("a").optSteps(1_000_000)).getMessage().contains("at most 1000"));
        invalid(GenerationRequest.builder("a").optSteps(Integer.MAX_VALUE));
    }

    @Test
    void hugeBatchesAreRefusedBeforeAnyArrayIsMade() {
        assertTrue(invalid(GenerationRequest.builder("a").optImagesPerPrompt(100_000)).getMessage()
                .contains("at most 64"));
        invalid(GenerationRequest.builder("a").optImagesPerPrompt(Integer.MAX_VALUE));
        GenerationRequest.Builder many = GenerationRequest.builder().setPrompts(java.util.Collections.nCopies(100, "a"))
                .optImagesPerPrompt(10);
        assertTrue(invalid(many).getMessage().contains("1000 images"));
    }

    @Test
    void absurdSizesGetSensibleHints() {
        String m = invalid(GenerationRequest.builder("a").optSize(Integer.MAX_VALUE, 64)).getMessage();
        assertTrue(m.contains("larger than this model supports"), m);
        assertFalse(m.contains("-"), m);
        EngineException e = assertThrows(EngineException.class,
                () -> RequestBounds.checkSize("width", Integer.MAX_VALUE, 16, 0));
        assertTrue(e.getMessage().endsWith("2147483632 would work."), e.getMessage());
    }

    @Test
    void configValuesThatWouldDivideByZeroOrOverflowNameTheFile(@TempDir Path tmp) throws Exception {
        Path t = Files.writeString(tmp.resolve("transformer.json"), "{\"patch_size\": 0}");
        EngineException e = assertThrows(EngineException.class, () -> TransformerConfig.read(t));
        assertEquals(Kind.CORRUPT_FILE, e.kind());
        assertTrue(e.getMessage().contains("patch_size") && e.getMessage().contains(t.toString()), e.getMessage());
        Files.writeString(t, "{\"sample_size\": 0}");
        assertThrows(EngineException.class, () -> TransformerConfig.read(t));
        Path v = Files.writeString(tmp.resolve("vae.json"), "{\"block_out_channels\": [" + "1,".repeat(31) + "1]}");
        assertEquals(Kind.CORRUPT_FILE, assertThrows(EngineException.class, () -> VaeConfig.read(v)).kind());
        Files.writeString(v, "{\"scaling_factor\": 0}");
        assertEquals(Kind.CORRUPT_FILE, assertThrows(EngineException.class, () -> VaeConfig.read(v)).kind());
    }
}
