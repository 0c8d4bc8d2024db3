package dev.sd3studio.engine.format;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ORT's rule for external data: relative, inside the model's folder once links are followed, in range. */
class ExternalDataFileTest {
    @TempDir
    Path tmp;

    @Test
    void dataInTheFolderOrBelowIsFound() throws Exception {
        Path model = model();
        Files.write(model.resolveSibling("model.onnx.data"), new byte[32]);
        Files.createDirectories(model.resolveSibling("weights"));
        Files.write(model.resolveSibling("weights").resolve("w.bin"), new byte[8]);
        assertEquals(model.resolveSibling("model.onnx.data").toRealPath(),
                ExternalDataFile.resolve(model, "model.onnx.data", 16, 16));
        assertEquals(model.resolveSibling("weights").resolve("w.bin").toRealPath(),
                ExternalDataFile.resolve(model, "weights/../weights/w.bin", 0, -1));
    }

    @Test
    void aModelFolderReachedThroughALinkStillReadsItsOwnData() throws Exception {
        Path model = model();
        Files.write(model.resolveSibling("model.onnx.data"), new byte[4]);
        Path link = Files.createSymbolicLink(tmp.resolve("linked"), model.getParent());
        assertEquals(model.resolveSibling("model.onnx.data").toRealPath(),
                ExternalDataFile.resolve(link.resolve("model.onnx"), "model.onnx.data", 0, 4));
    }

    @Test
    void dataOutsideTheFolderIsRefusedByName() throws Exception {
        Path model = model();
        Path secret = Files.write(tmp.resolve("secret.bin"), new byte[64]);
        Files.createSymbolicLink(model.resolveSibling("link.bin"), secret);
        Files.createDirectories(model.resolveSibling("sub"));
        for (String location : new String[] {"../secret.bin", secret.toString(), "link.bin", "sub/../../secret.bin",
            ".", ""}) {
            EngineException e = assertThrows(EngineException.class,
                    () -> ExternalDataFile.resolve(model, location, 0, 4), location);
            assertEquals(Kind.INCOMPATIBLE_MODEL, e.kind(), location);
            assertTrue(e.getMessage().contains(model + " names data outside its folder (\"" + location + "\"); refused"),
                    e.getMessage());
        }
    }

    @Test
    void aRangeBeyondTheFileOrAMissingFileIsCorrupt() throws Exception {
        Path model = model();
        Files.write(model.resolveSibling("model.onnx.data"), new byte[32]);
        for (long[] range : new long[][] {{16, 17}, {33, -1}, {-1, 4}, {8, Long.MAX_VALUE}}) {
            EngineException e = assertThrows(EngineException.class,
                    () -> ExternalDataFile.resolve(model, "model.onnx.data", range[0], range[1]));
            assertEquals(Kind.CORRUPT_FILE, e.kind());
            assertTrue(e.getMessage().contains("which has 32"), e.getMessage());
        }
        EngineException missing = assertThrows(EngineException.class,
                () -> ExternalDataFile.resolve(model, "gone.bin", 0, 4));
        assertEquals(Kind.CORRUPT_FILE, missing.kind());
        assertTrue(missing.getMessage().contains("\"gone.bin\", which is missing"), missing.getMessage());
    }

    private Path model() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        return Files.write(dir.resolve("model.onnx"), new byte[1]);
    }
}
