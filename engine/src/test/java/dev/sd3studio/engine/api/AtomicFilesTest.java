package dev.sd3studio.engine.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtomicFilesTest {
    @Test
    void deleteTreeQuietlyRemovesAStagingFolderButNeverFollowsALinkOutOfIt(@TempDir Path tmp) throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("user-data"));
        Path kept = Files.writeString(outside.resolve("picture.png"), "mine");
        Path staging = Files.createDirectories(tmp.resolve(".staging/a/b"));
        Files.writeString(staging.resolve("part.bin"), "x");
        Files.createSymbolicLink(tmp.resolve(".staging/link"), outside);

        AtomicFiles.deleteTreeQuietly(tmp.resolve(".staging"));

        assertFalse(Files.exists(tmp.resolve(".staging")));
        assertTrue(Files.exists(kept), "a link's target is not ours to delete");
        AtomicFiles.deleteTreeQuietly(tmp.resolve("missing")); // nothing there: nothing happens
    }
}
