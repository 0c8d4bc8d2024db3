package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.RgbImage;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stored mask: a round trip, and a decompression bomb refused by its header before any pixel is decoded. */
class MaskCodecTest {
    @Test
    void aMaskComesBackAsItWasStored() throws IOException {
        float[] rgb = new float[8 * 4 * 3];
        for (int i = 0; i < 4 * 3; i++) {
            rgb[i] = 1f; // the first four pixels of the top row
        }
        RgbImage back = MaskCodec.decode(MaskCodec.encode(new RgbImage(8, 4, rgb)), 8, 4);
        assertEquals(8, back.width());
        assertEquals(0xffffffff, back.argb(3, 0));
        assertEquals(0xff000000, back.argb(4, 0));
    }

    @Test
    void aSixteenThousandPixelBombIsRefusedByItsHeaderQuickly() {
        String bomb = MaskBombs.blackMask(16000, 16000);
        assertTrue(bomb.length() < 64 * 1024, "fits the PNG text limit: " + bomb.length());
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocated = threads.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> MaskCodec.decode(bomb, 1024, 1024));
        long ms = (System.nanoTime() - start) / 1_000_000;
        long mb = (threads.getCurrentThreadAllocatedBytes() - allocated) >> 20;
        assertTrue(e.getMessage().contains("16000x16000") && e.getMessage().contains("1024x1024"), e.getMessage());
        assertTrue(ms < 1000, ms + " ms");
        assertTrue(mb < 16, "no pixel decoded: " + mb + " MB allocated");
        assertThrows(IOException.class, () -> MaskCodec.decode(bomb), "the engine's largest size bounds it too");
    }

    @Test
    void damagedValuesAreIoExceptionsNotCrashes() {
        assertTrue(assertThrows(IOException.class, () -> MaskCodec.decode("not base64 !", 64, 64)).getMessage()
                .contains("Base64"));
        assertTrue(assertThrows(IOException.class, () -> MaskCodec.decode("aGVsbG8=", 64, 64)).getMessage()
                .contains("not a PNG"));
        String good = MaskCodec.encode(new RgbImage(8, 8, new float[8 * 8 * 3]));
        byte[] png = java.util.Base64.getDecoder().decode(good);
        // cut inside the pixel data
        String cut = java.util.Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(png, 45));
        assertThrows(IOException.class, () -> MaskCodec.decode(cut, 64, 64));
    }
}
