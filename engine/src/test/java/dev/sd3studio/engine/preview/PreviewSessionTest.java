package dev.sd3studio.engine.preview;

import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.ProgressListener;
import dev.sd3studio.engine.model.VaeConfig;
import dev.sd3studio.engine.runtime.OnnxTestModels;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No preview after the session closed; a decoder with the wrong interface costs one session, not one per step. */
class PreviewSessionTest {
    private static final VaeConfig VAE = new VaeConfig(1.5305, 0.0609, 16, 8);
    @TempDir
    Path scratch;

    @Test
    void noPreviewReachesTheListenerAfterClose() throws Exception {
        AtomicInteger late = new AtomicInteger();
        AtomicInteger delivered = new AtomicInteger();
        try (PreviewPublisher publisher = PreviewPublisher.create(null, emptyDir(), new OrtRuntime(Device.CPU, 1), VAE)) {
            for (int round = 0; round < 300; round++) {
                AtomicBoolean returned = new AtomicBoolean();
                ProgressListener listener = new ProgressListener() {
                    @Override
                    public void preview(int step, FloatTensor image) {
                        if (returned.get()) {
                            late.incrementAndGet();
                        }
                        delivered.incrementAndGet();
                        Thread.onSpinWait();
                    }
                };
                PreviewPublisher.Session session = publisher.start(1, listener);
                int steps = 1 + round % 7;
                for (int s = 1; s <= steps; s++) {
                    session.offer(s, 1000, FloatTensor.zeros(1, 16, 8, 8));
                }
                if (round % 10 == 0) {
                    session.finish(); // some rounds run to the end, so the test never passes by publishing nothing
                }
                session.close();
                returned.set(true);
            }
            Thread.sleep(200);
        }
        assertEquals(0, late.get(), "previews published after close() returned");
        assertTrue(delivered.get() >= 30, "previews delivered: " + delivered.get());
    }

    @Test
    void finishPublishesTheLastStep() throws Exception {
        List<Integer> steps = new CopyOnWriteArrayList<>();
        try (PreviewPublisher publisher = PreviewPublisher.create(null, emptyDir(), new OrtRuntime(Device.CPU, 1), VAE)) {
            PreviewPublisher.Session session = publisher.start(5, new ProgressListener() {
                @Override
                public void preview(int step, FloatTensor image) {
                    steps.add(step);
                }
            });
            for (int s = 1; s <= 7; s++) {
                session.offer(s, 7, FloatTensor.zeros(1, 16, 8, 8));
            }
            session.finish();
            session.close();
        }
        assertEquals(7, steps.get(steps.size() - 1));
    }

    @Test
    void aDecoderWithTheWrongInterfaceIsClosedNotLeakedPerStep(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("wrong");
        Path graph = OnnxTestModels.clipWithoutHiddenStates(tmp);
        Files.createDirectories(dir.resolve("vae_decoder"));
        Files.copy(graph, dir.resolve("vae_decoder/model.onnx"));
        int live = OrtRuntime.liveSessions();
        long created = OrtRuntime.sessionsCreated();
        List<String> warnings = new CopyOnWriteArrayList<>();
        List<Integer> previews = new CopyOnWriteArrayList<>();
        try (PreviewPublisher publisher = PreviewPublisher.create(null, dir, new OrtRuntime(Device.CPU, 1), VAE)) {
            PreviewPublisher.Session session = publisher.start(1, new ProgressListener() {
                @Override
                public void preview(int step, FloatTensor image) {
                    previews.add(step);
                }

                @Override
                public void warning(String message) {
                    warnings.add(message);
                }
            });
            for (int s = 1; s <= 20; s++) {
                session.offer(s, 20, FloatTensor.zeros(1, 16, 8, 8));
                Thread.sleep(5);
            }
            session.finish();
            session.close();
            assertEquals(live, OrtRuntime.liveSessions(), "the rejected decoder's session was closed");
            assertFalse(publisher.isOpen());
        }
        assertEquals(1, OrtRuntime.sessionsCreated() - created, "one attempt, not one per step");
        assertEquals(1, warnings.size(), String.valueOf(warnings));
        assertTrue(warnings.get(0).contains("latent_sample"), warnings.get(0));
        assertEquals(20, previews.get(previews.size() - 1), "previews go on with the linear projection");
    }

    private Path emptyDir() throws Exception {
        return Files.createDirectories(scratch.resolve("no-taesd"));
    }
}
