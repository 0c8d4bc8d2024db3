package dev.sd3studio.engine.image;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A half JPEG is refused instead of becoming half grey; a damaged EXIF block costs only the orientation. */
class ImageLoaderDamageTest {
    @TempDir
    Path dir;

    private static byte[] jpeg() throws Exception {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                img.setRGB(x, y, (x * 4) << 16 | (y * 4) << 8 | 0x40);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }

    @Test
    void aHalfTruncatedJpegIsRefused() throws Exception {
        byte[] whole = jpeg();
        Path half = Files.write(dir.resolve("half.jpg"), Arrays.copyOf(whole, whole.length / 2));
        EngineException e = assertThrows(EngineException.class, () -> ImageLoader.load(half));
        assertEquals(EngineException.Kind.BAD_IMAGE, e.kind());
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("half.jpg"), e.getMessage());
        assertEquals(64, ImageLoader.load(Files.write(dir.resolve("whole.jpg"), whole)).width());
    }

    @Test
    void anExifOffsetBeyondTheFileIsIgnored() throws Exception {
        byte[] whole = jpeg();
        ByteBuffer app1 = ByteBuffer.allocate(2 + 2 + 6 + 8);
        app1.put((byte) 0xFF).put((byte) 0xE1).putShort((short) (2 + 6 + 8));
        app1.put("Exif".getBytes()).put((byte) 0).put((byte) 0);
        app1.put("MM".getBytes()).putShort((short) 42).putInt(0x80000000);
        byte[] withExif = new byte[whole.length + app1.capacity()];
        System.arraycopy(whole, 0, withExif, 0, 2);
        System.arraycopy(app1.array(), 0, withExif, 2, app1.capacity());
        System.arraycopy(whole, 2, withExif, 2 + app1.capacity(), whole.length - 2);
        RgbImage image = ImageLoader.load(Files.write(dir.resolve("exif.jpg"), withExif));
        assertEquals(64, image.width());
    }
}
