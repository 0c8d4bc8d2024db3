package dev.sd3studio.engine.model;

import dev.sd3studio.engine.api.ModelReport;
import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OnnxTestModels;
import dev.sd3studio.engine.runtime.OrtRuntime;
import dev.sd3studio.engine.vae.VaeDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Listing a model reads its layout without loading it, and agrees with the deep probe. */
class ModelLayoutTest {
    @Test
    void listingAModelFolderOpensNoSession() throws Exception {
        for (String model : List.of("tiny-sd3", "tiny-sd35")) {
            long before = OrtRuntime.sessionsCreated();
            long t0 = System.nanoTime();
            ModelReport layout = Sd3Engine.layout(Fixtures.model(model));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(before, OrtRuntime.sessionsCreated(), "the layout check created an ORT session");
            assertTrue(layout.usable(), layout.missingRequired().toString());
            System.out.println("layout of " + model + ": " + ms + " ms");
        }
    }

    @Test
    void theLayoutReadsWhatTheDeepProbeReads() throws Exception {
        for (String model : List.of("tiny-sd3", "tiny-sd35")) {
            ModelReport deep = Sd3Engine.check(Fixtures.model(model));
            ModelReport cheap = Sd3Engine.layout(Fixtures.model(model));
            assertEquals(deep.notes(), cheap.notes(), model);
            assertEquals(deep.parts().size(), cheap.parts().size());
            for (int i = 0; i < deep.parts().size(); i++) {
                ModelReport.Part d = deep.parts().get(i);
                ModelReport.Part c = cheap.parts().get(i);
                assertEquals(List.of(d.name(), d.status(), d.format(), d.bytes(), d.inputs()),
                        List.of(c.name(), c.status(), c.format(), c.bytes(), c.inputs()), model);
                // Output shapes are as the file declares them; ORT may refine a symbolic one by inference.
                assertEquals(names(d.outputs()), names(c.outputs()), model + " " + d.name());
            }
        }
    }

    private static List<String> names(List<String> described) {
        return described.stream().map(s -> s.substring(0, s.indexOf(' '))).toList();
    }

    @Test
    void externalDataGraphsAreReadWithoutTheirWeights(@TempDir Path tmp) throws Exception {
        Path file = OnnxTestModels.externalScale(tmp.resolve("vae_decoder"));
        OnnxSignature sig = OnnxSignature.read(file);
        assertEquals(List.of("latent_sample float [batch, channels, height, width]"),
                sig.inputs().stream().map(OnnxSignature.Port::describe).toList(), "initializers are not inputs");
        assertEquals("sample", sig.outputs().get(0).name());
        // The same file runs in ORT, so the test graph really is an external-data model.
        try (VaeDecoder d = new VaeDecoder(OnnxModel.open(new OrtRuntime(Device.CPU, 1), "vae_decoder", file))) {
            FloatTensor y = d.decode(new FloatTensor(new long[] {1, 1, 1, 2}, new float[] {1f, 2f}), CancelToken.none());
            assertArrayEquals(new float[] {3f, 5f}, y.data());
        }
    }

    @Test
    void garbageIsUnreadableNotACrash(@TempDir Path tmp) throws Exception {
        Path file = Files.write(tmp.resolve("model.onnx"), new byte[] {(byte) 0xff, (byte) 0xff, 0x01, 0x7a});
        EngineException e = org.junit.jupiter.api.Assertions.assertThrows(EngineException.class,
                () -> OnnxSignature.read(file));
        assertEquals(EngineException.Kind.CORRUPT_FILE, e.kind());
    }

    /**
     * How long listing takes on a large external-data folder, when one exists here (the full-size recipe
     * writes them under /work/cache); printed for the record, asserted only to open no session.
     */
    @Test
    void largeExternalDataFoldersListFast() throws Exception {
        String dirs = System.getProperty("sd3studio.largeModels", System.getenv().getOrDefault("SD3STUDIO_LARGE_MODELS", ""));
        for (String d : dirs.split(",")) {
            if (d.isBlank() || !Files.isDirectory(Path.of(d))) {
                continue;
            }
            long before = OrtRuntime.sessionsCreated();
            long t0 = System.nanoTime();
            ModelReport r = Sd3Engine.layout(Path.of(d));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long bytes = r.parts().stream().mapToLong(ModelReport.Part::bytes).sum();
            System.out.printf("layout of %s (%.1f GB): %d ms%n", d, bytes / 1e9, ms);
            assertEquals(before, OrtRuntime.sessionsCreated());
        }
    }
}
