package dev.sd3studio.engine.preview;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.GenerationRequest;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.model.ModelFolder;
import dev.sd3studio.engine.model.VaeConfig;
import dev.sd3studio.engine.pipeline.Sd3Pipeline;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TAESD3 previews reproduce the reference's decode of the step-1 latents; the linear fallback works. */
class PreviewGoldensTest {
    private static final VaeConfig SD3_VAE = new VaeConfig(1.5305, 0.0609, 16, 8);

    @Test
    void taesdPreviewsMatchTheReference() throws Exception {
        int checked = 0;
        ModelFolder folder = ModelFolder.detect(Fixtures.model("tiny-sd3"));
        try (PreviewPublisher p = PreviewPublisher.create(folder.previewSearchFolder(), Fixtures.model("tiny-taesd3"),
                new OrtRuntime(Device.CPU, 1), SD3_VAE)) {
            assertTrue(p.method().startsWith("TAESD3"));
            for (Path dir : Fixtures.cases()) {
                if (!Files.exists(dir.resolve("taesd_preview_step1.npy"))) {
                    continue;
                }
                FloatTensor preview = p.render(Fixtures.tensor(dir, "latents_step1"));
                FloatTensor expected = Fixtures.tensor(dir, "taesd_preview_step1");
                assertArrayEquals(expected.shape(), preview.shape());
                float err = expected.maxAbsDifference(preview);
                assertTrue(err <= 1e-4f, dir.getFileName() + ": preview differs by " + err);
                checked++;
            }
        }
        assertEquals(2, checked, "two golden cases carry TAESD3 previews");
    }

    @Test
    void theRawTaesdRangeIsDecidedByTheConfig(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        assertTrue(PreviewPublisher.signedOutput(Fixtures.model("tiny-taesd3")), "diffusers AutoencoderTiny gives [-1, 1]");
        assertFalse(PreviewPublisher.signedOutput(tmp), "a folder without config is the raw network, [0, 1]");
        Files.writeString(tmp.resolve("config.json"), "{\"output_range\": \"-1,1\"}");
        assertTrue(PreviewPublisher.signedOutput(tmp));
    }

    @Test
    void linearProjectionWithoutADecoder() throws Exception {
        ModelFolder folder = ModelFolder.detect(Fixtures.model("tiny-sd3"));
        try (PreviewPublisher p = PreviewPublisher.create(folder.previewSearchFolder(), null, new OrtRuntime(Device.CPU, 1), SD3_VAE)) {
            assertEquals("linear latent projection", p.method());
            FloatTensor preview = p.render(FloatTensor.zeros(2, 16, 4, 6));
            assertArrayEquals(new long[] {2, 4, 6, 3}, preview.shape());
            assertEquals(LatentToRgb.BIAS[0] / 2f + 0.5f, preview.data()[0], 1e-6f);
        }
    }

    @Test
    void previewsArriveDuringDenoisingAndShowTheDenoisedEstimate() throws Exception {
        List<Integer> steps = new CopyOnWriteArrayList<>();
        List<FloatTensor> images = new CopyOnWriteArrayList<>();
        try (Sd3Pipeline engine = Sd3Pipeline.open(Fixtures.model("tiny-sd3"),
                EngineOptions.defaults().withPreviewModel(Fixtures.model("tiny-taesd3")))) {
            engine.generate(GenerationRequest.builder("a cat").optSteps(4).optSeed(3L).optPreviewEvery(1).build(),
                    new ProgressListener() {
                        @Override
                        public void preview(int step, FloatTensor image) {
                            steps.add(step);
                            images.add(image);
                        }
                    }, CancelToken.none());
        }
        assertFalse(steps.isEmpty());
        assertEquals(4, steps.get(steps.size() - 1), "the last step is always previewed");
        assertArrayEquals(new long[] {1, 64, 64, 3}, images.get(0).shape());
    }
}
