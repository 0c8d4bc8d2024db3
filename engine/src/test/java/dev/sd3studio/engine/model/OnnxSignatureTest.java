package dev.sd3studio.engine.model;

import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.EngineException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading a signature from a damaged or lying model file: a named error, never what a length claims. */
class OnnxSignatureTest {
    @TempDir
    Path tmp;

    @Test
    void aTinyFileClaimingAHugeInputIsCorruptWithoutAllocatingIt() throws Exception {
        // ModelProto { ir_version: 8, graph: { input: <length 0x7ffffff0> } }: 10 bytes
        Path file = Files.write(tmp.resolve("model.onnx"), new byte[] {0x08, 0x08, 0x3a, 0x06, 0x5a,
            (byte) 0xf0, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07});
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        EngineException e = assertThrows(EngineException.class, () -> OnnxSignature.read(file));
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(EngineException.Kind.CORRUPT_FILE, e.kind());
        assertTrue(e.getMessage().startsWith(file + " is not a readable ONNX model"), e.getMessage());
        assertTrue(allocated < 16 << 20, "allocated " + allocated + " bytes for a 10-byte file");
    }

    @Test
    void everyTruncationOfARealModelIsACorruptFile() throws Exception {
        byte[] model = Files.readAllBytes(Fixtures.model("tiny-sd3").resolve("vae_decoder/model.onnx"));
        assertEquals("latent_sample", OnnxSignature.read(Files.write(tmp.resolve("whole.onnx"), model))
                .inputs().getFirst().name());
        int step = Math.max(1, model.length / 200);
        for (int n = 1; n < model.length; n += step) {
            Path cut = Files.write(tmp.resolve("cut.onnx"), Arrays.copyOf(model, n));
            try {
                OnnxSignature.read(cut); // a cut right after a complete field may still parse
            } catch (EngineException e) {
                assertEquals(EngineException.Kind.CORRUPT_FILE, e.kind(), "cut at " + n);
            }
        }
    }

    @Test
    void anInputLongerThanItsGraphIsCorrupt() throws Exception {
        // graph { input: <length 20> } where the graph is 4 bytes long, then a 30-byte doc_string the
        // input's claimed bytes would run into
        byte[] graph = {0x3a, 0x04, 0x5a, 20, 0x0a, 0x01};
        byte[] doc = new byte[32];
        doc[0] = 0x32;
        doc[1] = 30;
        Arrays.fill(doc, 2, 32, (byte) 'x');
        byte[] bytes = Arrays.copyOf(graph, graph.length + doc.length);
        System.arraycopy(doc, 0, bytes, graph.length, doc.length);
        Path file = Files.write(tmp.resolve("model.onnx"), bytes);
        EngineException e = assertThrows(EngineException.class, () -> OnnxSignature.read(file));
        assertEquals(EngineException.Kind.CORRUPT_FILE, e.kind());
        assertTrue(e.getMessage().contains("overruns its message"), e.getMessage());
    }
}
