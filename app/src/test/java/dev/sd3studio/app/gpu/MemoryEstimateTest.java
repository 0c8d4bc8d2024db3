package dev.sd3studio.app.gpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The estimate follows the model's file sizes and the image size, and names the setting that makes it fit. */
class MemoryEstimateTest {
    private static final long GB = 1L << 30;

    private static void part(Path model, String dir, String file, long bytes) throws Exception {
        Files.createDirectories(model.resolve(dir));
        try (RandomAccessFile f = new RandomAccessFile(model.resolve(dir).resolve(file).toFile(), "rw")) {
            f.setLength(bytes); // sparse: no disk used
        }
    }

    /** Roughly SD3.5 Medium: CLIPs 1.6 GB, MMDiT 5 GB; T5 as given. */
    private static Path model(Path root, long t5) throws Exception {
        part(root, "text_encoder", "model.onnx", GB / 4);
        part(root, "text_encoder_2", "model.onnx", 14 * GB / 10);
        part(root, "text_encoder_3", "model.onnx_data", t5);
        part(root, "transformer", "model.onnx_data", 5 * GB);
        part(root, "vae_decoder", "model.onnx", GB / 10);
        Files.writeString(root.resolve("transformer/config.json"), "{\"sample_size\": 128}");
        return root;
    }

    @Test
    void offloadIsSuggestedWhenItFits(@TempDir Path tmp) throws Exception {
        MemoryEstimate e = MemoryEstimate.of(model(tmp, 5 * GB), null, null, 1);
        assertTrue(e.needed(false, false) > 15 * GB && e.needed(false, false) < 18 * GB, "" + e.needed(false, false));
        String advice = e.advice(12 * GB, false, false).orElseThrow();
        assertTrue(advice.contains("turn on offload (--offload"), advice);
        assertTrue(e.advice(24 * GB, false, false).isEmpty());
        assertTrue(e.advice(12 * GB, true, false).isEmpty());
    }

    @Test
    void dropT5IsSuggestedWhenT5IsTheLargestPart(@TempDir Path tmp) throws Exception {
        MemoryEstimate e = MemoryEstimate.of(model(tmp, 9 * GB + GB / 2), 1024, 1024, 1);
        String advice = e.advice(12 * GB, false, false).orElseThrow();
        assertTrue(advice.contains("--offload --no-t5"), advice);
    }

    @Test
    void biggerImagesNeedMoreAndTooBigSaysSo(@TempDir Path tmp) throws Exception {
        Path m = model(tmp, 5 * GB);
        assertTrue(MemoryEstimate.of(m, 1536, 1536, 1).activations() > 4 * MemoryEstimate.of(m, 1024, 1024, 1).activations());
        String advice = MemoryEstimate.of(m, 1024, 1024, 1).advice(6 * GB, false, false).orElseThrow();
        assertTrue(advice.contains("smaller size or run on the CPU"), advice);
        assertEquals(0, MemoryEstimate.of(tmp.resolve("none"), 64, 64, 1).transformer());
    }

    @Test
    void quantizedWeightsShrinkTheTransformerAndT5Only(@TempDir Path tmp) throws Exception {
        MemoryEstimate stored = MemoryEstimate.of(model(tmp, 5 * GB), null, null, 1);
        MemoryEstimate int4 = stored.withWeights(dev.sd3studio.engine.api.WeightPrecision.INT4);
        MemoryEstimate int8 = stored.withWeights(dev.sd3studio.engine.api.WeightPrecision.INT8);
        // fp16 files: int8 about 0.52×, int4 about 0.32× (scales and zero points included)
        assertEquals(0.52, int8.transformer() / (double) stored.transformer(), 0.01);
        assertEquals(0.32, int4.t5() / (double) stored.t5(), 0.01);
        assertEquals(stored.textEncoders(), int4.textEncoders());
        assertEquals(stored.vae(), int4.vae());
        assertEquals(stored, stored.withWeights(dev.sd3studio.engine.api.WeightPrecision.STORED));
        // the 12 GB card that needed offload for stored weights runs int4 resident
        assertTrue(stored.advice(12 * GB, false, false).isPresent());
        assertTrue(int4.advice(12 * GB, false, false).isEmpty(), int4.advice(12 * GB, false, false).orElse(""));
    }
}
