package dev.sd3studio.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.RgbImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each class of bad picture fails with a BAD_IMAGE error that names the file and the problem in
 * words, quickly and without decoding what it cannot afford.
 */
class ImageLoaderBadImagesTest {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    @TempDir
    Path dir;

    /** Loads {@code file}, expects BAD_IMAGE, checks the message, returns it. */
    private static String refused(Path file, String... words) {
        EngineException e = assertThrows(EngineException.class, () -> ImageLoader.load(file));
        String m = e.getMessage();
        assertEquals(EngineException.Kind.BAD_IMAGE, e.kind(), m);
        assertTrue(m.contains(file.toString()), "message should name the file: " + m);
        assertFalse(m.toLowerCase().contains("exception"), "no exception names in: " + m);
        assertFalse(m.contains("\tat ") || m.contains("java."), "no stack trace text in: " + m);
        for (String w : words) {
            assertTrue(m.contains(w), "message should say '" + w + "': " + m);
        }
        return m;
    }

    private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeInt(data.length);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeInt((int) crc.getValue());
    }

    private static byte[] ihdr(int w, int h, int bitDepth, int colourType) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        d.writeInt(w);
        d.writeInt(h);
        d.write(new byte[] {(byte) bitDepth, (byte) colourType, 0, 0, 0});
        return b.toByteArray();
    }

    /** A PNG with the given header whose IDAT holds {@code rows} zero rows of {@code rowBytes}, streamed. */
    private Path pngOfZeros(String name, int w, int h, long rows, int rowBytes) throws IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (OutputStream z = new DeflaterOutputStream(idat, new Deflater(Deflater.BEST_COMPRESSION), 1 << 16)) {
            byte[] row = new byte[rowBytes + 1];
            for (long y = 0; y < rows; y++) {
                z.write(row);
            }
        }
        Path file = dir.resolve(name);
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
            out.write(PNG_SIGNATURE);
            chunk(out, "IHDR", ihdr(w, h, 8, 0));
            chunk(out, "IDAT", idat.toByteArray());
            chunk(out, "IEND", new byte[0]);
        }
        return file;
    }

    @Test
    void missingFile() {
        refused(dir.resolve("nowhere.png"), "does not exist");
    }

    @Test
    void directory() {
        refused(dir, "is not a file");
    }

    @Test
    void emptyFile() throws IOException {
        Path file = Files.createFile(dir.resolve("empty.png"));
        refused(file, "empty");
    }

    @Test
    void textFileNamedPng() throws IOException {
        Path file = Files.writeString(dir.resolve("notes.png"), "not a picture at all\n");
        refused(file, "not a picture in a known format");
    }

    @Test
    void truncatedPng() throws IOException {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Random random = new Random(1);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                img.setRGB(x, y, random.nextInt());
            }
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(img, "png", png);
        byte[] all = png.toByteArray();
        Path file = Files.write(dir.resolve("cut.png"), Arrays.copyOf(all, all.length / 2));
        refused(file, "damaged or truncated");
    }

    @Test
    void pngCutInsideTheHeader() throws IOException {
        Path file = Files.write(dir.resolve("header.png"), Arrays.copyOf(PNG_SIGNATURE, 8));
        refused(file, "damaged");
    }

    /** A truncated JPEG decodes with the missing part grey (as browsers show it) or fails cleanly. */
    @Test
    void truncatedJpegLoadsOrFailsCleanly() throws IOException {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
        ImageIO.write(img, "jpeg", jpeg);
        byte[] all = jpeg.toByteArray();
        Path file = Files.write(dir.resolve("cut.jpg"), Arrays.copyOf(all, all.length * 3 / 4));
        try {
            RgbImage out = ImageLoader.load(file);
            assertEquals(64, out.width());
        } catch (EngineException e) {
            refused(file);
        }
    }

    @Test
    void zeroByZeroPng() throws IOException {
        Path file = dir.resolve("zero.png");
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
            out.write(PNG_SIGNATURE);
            chunk(out, "IHDR", ihdr(0, 0, 8, 2));
            chunk(out, "IEND", new byte[0]);
        }
        refused(file, "no pixels");
    }

    /** 30000×30000 RGBA would be 3.6 GB decoded: refused from the header, in well under a second. */
    @Test
    void hugeHeaderIsRefusedBeforeDecoding() throws IOException {
        Path file = dir.resolve("huge.png");
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
            out.write(PNG_SIGNATURE);
            chunk(out, "IHDR", ihdr(30000, 30000, 8, 6));
            chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
            chunk(out, "IEND", new byte[0]);
        }
        long t0 = System.nanoTime();
        refused(file, "30000x30000", "too large");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 500, "took " + ms + " ms");
    }

    /** 16000×16000 zeros: a 25 KB file that would inflate to 256 MB; over the header bound. */
    @Test
    void bombAboveTheHeaderBoundIsRefusedFast() throws IOException {
        Path file = pngOfZeros("bomb-big.png", 16000, 16000, 1000, 16000);
        long t0 = System.nanoTime();
        refused(file, "16000x16000", "too large");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 500, "took " + ms + " ms");
    }

    /**
     * 8192×8192 zeros (64 MP, just within the header bound; a 65 KB file): decoded subsampled to
     * 4096×4096, so memory stays bounded (16 MP × 12 bytes for the float copy).
     */
    @Test
    void bombWithinTheHeaderBoundDecodesSubsampled() throws Exception {
        Path file = pngOfZeros("bomb.png", 8192, 8192, 8192, 8192);
        assertTrue(Files.size(file) < 200_000, "bomb is " + Files.size(file) + " bytes");
        long t0 = System.nanoTime();
        RgbImage out = ImageLoader.load(file);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(4096, out.width());
        assertEquals(4096, out.height());
        assertEquals(0f, out.rgb()[out.rgb().length - 1]);
        assertTrue(ms < 20_000, "took " + ms + " ms");
    }

    /** A bomb whose header is fine but whose data ends early fails like any truncated picture. */
    @Test
    void bombWithShortDataFailsCleanly() throws IOException {
        Path file = pngOfZeros("bomb-short.png", 8192, 8192, 100, 8192);
        refused(file, "damaged or truncated");
    }

    @Test
    void subsamplingStepKeepsTheDecodedPictureWithinBounds() {
        assertEquals(1, ImageLoader.subsampling(4032, 3024));
        assertEquals(1, ImageLoader.subsampling(4096, 4096));
        assertEquals(2, ImageLoader.subsampling(8000, 6000));
        assertEquals(2, ImageLoader.subsampling(8192, 8192));
        assertEquals(2, ImageLoader.subsampling(16384, 4096));
        for (int[] s : new int[][] {{16384, 4096}, {8000, 6000}, {4097, 4097}, {12000, 5000}}) {
            int step = ImageLoader.subsampling(s[0], s[1]);
            long decoded = (long) ((s[0] + step - 1) / step) * ((s[1] + step - 1) / step);
            assertTrue(decoded <= ImageLoader.MAX_DECODED_PIXELS, Arrays.toString(s));
        }
    }
}
