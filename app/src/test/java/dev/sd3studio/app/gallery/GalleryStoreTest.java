package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two studios on one folder lose nothing; killed writes and damaged files leave no trace in the list. */
class GalleryStoreTest {
    private static final Clock FROZEN = Clock.fixed(Instant.parse("2026-11-30T12:00:00Z"), ZoneOffset.UTC);
    private static final RgbImage PIXEL = new RgbImage(2, 2, new float[12]);

    @TempDir
    Path dir;

    @Test
    void twoStoresThatPickTheSameNamesAtOnceKeepEveryPicture() throws Exception {
        GalleryStore a = new GalleryStore(dir, FROZEN);
        GalleryStore b = new GalleryStore(dir, FROZEN);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<List<Path>>> runs = new ArrayList<>();
            for (GalleryStore s : List.of(a, b)) {
                Callable<List<Path>> saves = () -> {
                    List<Path> files = new ArrayList<>();
                    for (int i = 0; i < 150; i++) {
                        files.add(s.add(PIXEL, Map.of("prompt", s == a ? "a" + i : "b" + i)).file());
                    }
                    return files;
                };
                runs.add(pool.submit(saves));
            }
            List<Path> saved = new ArrayList<>();
            for (Future<List<Path>> r : runs) {
                saved.addAll(r.get());
            }
            assertEquals(300, saved.stream().distinct().count(), "two saves reported the same file");
            assertEquals(300, a.load().size());
            for (Path f : saved) {
                String prompt = GalleryStore.parameters(f).get("prompt");
                assertTrue(prompt.startsWith("a") || prompt.startsWith("b"));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anotherStoreStartingDoesNotEmptyThisOnesTrash() throws Exception {
        GalleryStore a = new GalleryStore(dir);
        GalleryItem item = a.add(PIXEL, Map.of("prompt", "keep me"));
        a.delete(item);
        new GalleryStore(dir).load(); // a second studio starts on the same folder
        a.restore(item);
        assertTrue(Files.isRegularFile(item.file()));
    }

    @Test
    void theTrashOfAnEndedProcessIsEmptied() throws Exception {
        long dead = endedProcessId();
        Path old = Files.createDirectories(dir.resolve(".trash").resolve(Long.toString(dead)));
        Files.write(old.resolve("x.png"), new byte[] {1});
        new GalleryStore(dir).load();
        assertFalse(Files.exists(old));
    }

    @Test
    void tempFilesOfKilledWritesAreRemovedThoseOfRunningProcessesKept() throws Exception {
        Path killed = Files.write(dir.resolve(".20261130-000000-000-001.png." + endedProcessId() + "-1.part"), new byte[] {1});
        Process running = new ProcessBuilder("sleep", "30").start();
        try {
            Path live = Files.write(dir.resolve(".x.png." + running.pid() + "-1.part"), new byte[] {1});
            assertEquals(List.of(), new GalleryStore(dir).load());
            assertFalse(Files.exists(killed));
            assertTrue(Files.exists(live));
        } finally {
            running.destroy();
        }
    }

    @Test
    void onlyPngFilesAreItemsATruncatedOneIncluded() throws Exception {
        GalleryStore store = new GalleryStore(dir);
        GalleryItem good = store.add(PIXEL, Map.of("prompt", "good"));
        byte[] png = Files.readAllBytes(good.file());
        Files.write(dir.resolve("0-truncated.png"), java.util.Arrays.copyOf(png, png.length / 2));
        Files.write(dir.resolve("1-empty.png"), new byte[0]);
        Files.writeString(dir.resolve("2-garbage.png"), "not a picture");
        Files.createDirectories(dir.resolve("3-folder.png"));
        List<String> names = store.load().stream().map(i -> i.file().getFileName().toString()).toList();
        assertEquals(List.of(good.file().getFileName().toString(), "0-truncated.png"), names);
    }

    @Test
    void aHugePromptInTheMetadataIsNotReadIntoMemory() throws Exception {
        Path huge = dir.resolve("huge.png");
        Files.write(huge, PngFiles.encode(PngFiles.toBufferedImage(PIXEL),
                Map.of(PngMetadata.OURS, "prompt=" + "x".repeat(20 << 20))));
        long t0 = System.nanoTime();
        List<GalleryItem> items = new GalleryStore(dir).load();
        assertEquals(1, items.size());
        assertEquals("", items.getFirst().prompt(), "a 20 MB prompt was read");
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "reading took " + (System.nanoTime() - t0) / 1e6 + " ms");
    }

    @Test
    void identicalPicturesGiveIdenticalBytes() throws Exception {
        Map<String, String> oneOrder = new java.util.LinkedHashMap<>();
        oneOrder.put(PngMetadata.OURS, "prompt=a");
        oneOrder.put(PngMetadata.PARAMETERS, "a");
        Map<String, String> otherOrder = new java.util.LinkedHashMap<>();
        otherOrder.put(PngMetadata.PARAMETERS, "a");
        otherOrder.put(PngMetadata.OURS, "prompt=a");
        assertArrayEquals(PngFiles.encode(PngFiles.toBufferedImage(PIXEL), oneOrder),
                PngFiles.encode(PngFiles.toBufferedImage(PIXEL), otherOrder));
    }

    @Test
    void aJpegNamedPngHasNoTextAndIsNoError() throws Exception {
        Path jpeg = dir.resolve("photo.png");
        javax.imageio.ImageIO.write(PngFiles.toBufferedImage(PIXEL), "jpg", jpeg.toFile());
        assertEquals(Map.of(), PngFiles.readText(jpeg));
        assertEquals(Map.of(), GalleryStore.parameters(jpeg));
    }

    @Test
    void compressedTextBombsAreNotInflated() throws Exception {
        java.io.ByteArrayOutputStream z = new java.io.ByteArrayOutputStream();
        try (var out = new java.util.zip.DeflaterOutputStream(z)) {
            out.write(new byte[64 << 20]);
        }
        Path bomb = dir.resolve("bomb.png");
        Files.write(bomb, withChunk(PngFiles.encode(PngFiles.toBufferedImage(PIXEL), Map.of()), "zTXt",
                concat("sd3studio".getBytes(), new byte[] {0, 0}, z.toByteArray())));
        assertEquals(Map.of(), PngFiles.readText(bomb));
    }

    /** A chunk inserted right after IHDR (CRC not checked by our reader, so left zero). */
    private static byte[] withChunk(byte[] png, String type, byte[] body) {
        int afterIhdr = 8 + 8 + 13 + 4;
        java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(12 + body.length);
        chunk.putInt(body.length).put(type.getBytes()).put(body).putInt(0);
        return concat(java.util.Arrays.copyOf(png, afterIhdr), chunk.array(),
                java.util.Arrays.copyOfRange(png, afterIhdr, png.length));
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static long endedProcessId() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }
}
