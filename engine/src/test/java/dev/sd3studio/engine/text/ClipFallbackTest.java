package dev.sd3studio.engine.text;

import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OnnxTestModels;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A CLIP export without per-layer hidden states: warned about, and the closest output used. */
class ClipFallbackTest {
    @Test
    void lastHiddenStateStandsInWithAWarning(@TempDir Path tmp) throws Exception {
        Path file = OnnxTestModels.clipWithoutHiddenStates(tmp);
        try (ClipTextEncoder clip = new ClipTextEncoder(OnnxModel.open(new OrtRuntime(Device.CPU, 1), "text_encoder", file))) {
            assertTrue(clip.hiddenStateWarning().orElseThrow().contains("penultimate"));
            assertEquals("last_hidden_state", clip.hiddenOutput(0));
            ClipTextEncoder.Output out = clip.encode(new long[][] {{0, 5, 9}}, 0, CancelToken.none());
            assertArrayEquals(new long[] {1, 3, 4}, out.hidden().shape());
            assertArrayEquals(new long[] {1, 4}, out.pooled().shape());
        }
    }
}
