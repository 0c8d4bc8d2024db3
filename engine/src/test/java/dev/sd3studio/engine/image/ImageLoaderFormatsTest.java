package dev.sd3studio.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sd3studio.engine.api.RgbImage;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every format a user may drop decodes to the RGB a person sees. Pictures are made here with ImageIO. */
class ImageLoaderFormatsTest {
    private static final float EXACT = 1e-6f;

    @TempDir
    Path dir;

    private Path write(BufferedImage image, String format, String name) throws IOException {
        Path file = dir.resolve(name);
        assertTrue(ImageIO.write(image, format, file.toFile()), "no ImageIO writer for " + format);
        return file;
    }

    private static void assertPixel(RgbImage img, int x, int y, float r, float g, float b, float tol) {
        int i = (y * img.width() + x) * 3;
        float[] p = img.rgb();
        String at = "pixel (" + x + "," + y + ") = " + p[i] + "," + p[i + 1] + "," + p[i + 2];
        assertEquals(r, p[i], tol, at);
        assertEquals(g, p[i + 1], tol, at);
        assertEquals(b, p[i + 2], tol, at);
    }

    private static void assertPixel8(RgbImage img, int x, int y, int r, int g, int b, int tol) {
        assertPixel(img, x, y, r / 255f, g / 255f, b / 255f, tol / 255f + EXACT);
    }

    /** Left half one colour, right half another. */
    private static BufferedImage halves(int type, int w, int h, int left, int right) {
        BufferedImage img = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, x < w / 2 ? left : right);
            }
        }
        return img;
    }

    @Test
    void png8BitRgbIsExact() throws Exception {
        BufferedImage img = halves(BufferedImage.TYPE_INT_RGB, 6, 4, 0x102030, 0xF0E0D0);
        img.setRGB(5, 3, 0x7F8081);
        RgbImage out = ImageLoader.load(write(img, "png", "rgb.png"));
        assertEquals(6, out.width());
        assertEquals(4, out.height());
        assertPixel8(out, 0, 0, 0x10, 0x20, 0x30, 0);
        assertPixel8(out, 4, 0, 0xF0, 0xE0, 0xD0, 0);
        assertPixel8(out, 5, 3, 0x7F, 0x80, 0x81, 0);
    }

    @Test
    void png16BitRgbKeepsItsColours() throws Exception {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB),
                new int[] {16, 16, 16}, false, false, Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        WritableRaster raster = cm.createCompatibleWritableRaster(4, 2);
        raster.setPixel(0, 0, new int[] {65535, 0, 0});
        raster.setPixel(1, 0, new int[] {40000, 20000, 1000});
        raster.setPixel(2, 1, new int[] {128 * 257, 128 * 257, 128 * 257});
        BufferedImage img = new BufferedImage(cm, raster, false, null);
        RgbImage out = ImageLoader.load(write(img, "png", "rgb16.png"));
        assertPixel8(out, 0, 0, 255, 0, 0, 0);
        assertPixel(out, 1, 0, 40000 / 65535f, 20000 / 65535f, 1000 / 65535f, 1 / 255f);
        assertPixel8(out, 2, 1, 128, 128, 128, 0);
    }

    /** Java's grey colour space is linear: read naively, grey 128 would come back as 188. */
    @Test
    void png8BitGreyIsReadAsStored() throws Exception {
        BufferedImage img = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 128, 255});
        RgbImage out = ImageLoader.load(write(img, "png", "grey.png"));
        assertPixel8(out, 0, 0, 0, 0, 0, 0);
        assertPixel8(out, 1, 0, 128, 128, 128, 0);
        assertPixel8(out, 2, 0, 255, 255, 255, 0);
    }

    @Test
    void png16BitGreyIsReadAsStored() throws Exception {
        BufferedImage img = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
        img.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 128 * 257, 65535});
        RgbImage out = ImageLoader.load(write(img, "png", "grey16.png"));
        assertPixel8(out, 0, 0, 0, 0, 0, 0);
        assertPixel8(out, 1, 0, 128, 128, 128, 0);
        assertPixel8(out, 2, 0, 255, 255, 255, 0);
    }

    @Test
    void greyWithAlphaGoesOverWhite() throws Exception {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY),
                new int[] {8, 8}, true, false, Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
        WritableRaster raster = cm.createCompatibleWritableRaster(3, 1);
        raster.setPixel(0, 0, new int[] {0, 0});
        raster.setPixel(1, 0, new int[] {0, 255});
        raster.setPixel(2, 0, new int[] {100, 51});
        RgbImage out = ImageLoader.load(write(new BufferedImage(cm, raster, false, null), "png", "greyalpha.png"));
        assertPixel8(out, 0, 0, 255, 255, 255, 0);
        assertPixel8(out, 1, 0, 0, 0, 0, 0);
        float a = 51 / 255f;
        float v = 100 / 255f * a + 1 - a;
        assertPixel(out, 2, 0, v, v, v, EXACT);
    }

    @Test
    void paletteWithTransparentEntry() throws Exception {
        byte[] r = {(byte) 255, 0, 0, 0};
        byte[] g = {0, (byte) 255, 0, 0};
        byte[] b = {0, 0, (byte) 255, 0};
        IndexColorModel cm = new IndexColorModel(2, 4, r, g, b, 3);
        BufferedImage img = new BufferedImage(4, 1, BufferedImage.TYPE_BYTE_INDEXED, cm);
        img.getRaster().setSamples(0, 0, 4, 1, 0, new int[] {0, 1, 2, 3});
        RgbImage out = ImageLoader.load(write(img, "png", "palette.png"));
        assertPixel8(out, 0, 0, 255, 0, 0, 0);
        assertPixel8(out, 1, 0, 0, 255, 0, 0);
        assertPixel8(out, 2, 0, 0, 0, 255, 0);
        assertPixel8(out, 3, 0, 255, 255, 255, 0);
    }

    @Test
    void rgbaTransparentPixelsComeOutWhite() throws Exception {
        BufferedImage img = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
        img.setRGB(0, 0, 0x00000000);
        img.setRGB(1, 0, 0xFF00FF00);
        img.setRGB(2, 0, 0x80FF0000);
        RgbImage out = ImageLoader.load(write(img, "png", "rgba.png"));
        assertPixel8(out, 0, 0, 255, 255, 255, 0);
        assertPixel8(out, 1, 0, 0, 255, 0, 0);
        float a = 0x80 / 255f;
        assertPixel(out, 2, 0, 1f, 1 - a, 1 - a, EXACT);
    }

    @Test
    void bmp() throws Exception {
        BufferedImage img = halves(BufferedImage.TYPE_INT_RGB, 5, 3, 0x123456, 0xABCDEF);
        RgbImage out = ImageLoader.load(write(img, "bmp", "pic.bmp"));
        assertEquals(5, out.width());
        assertEquals(3, out.height());
        assertPixel8(out, 0, 0, 0x12, 0x34, 0x56, 0);
        assertPixel8(out, 4, 2, 0xAB, 0xCD, 0xEF, 0);
    }

    @Test
    void gifGivesTheFirstFrame() throws Exception {
        Path file = dir.resolve("anim.gif");
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
            writer.setOutput(out);
            assertTrue(writer.canWriteSequence());
            writer.prepareWriteSequence(null);
            writer.writeToSequence(new IIOImage(halves(BufferedImage.TYPE_INT_RGB, 4, 4, 0xFF0000, 0xFF0000),
                    null, null), null);
            writer.writeToSequence(new IIOImage(halves(BufferedImage.TYPE_INT_RGB, 4, 4, 0x0000FF, 0x0000FF),
                    null, null), null);
            writer.endWriteSequence();
        } finally {
            writer.dispose();
        }
        RgbImage out = ImageLoader.load(file);
        assertEquals(4, out.width());
        assertPixel8(out, 0, 0, 255, 0, 0, 0);
        assertPixel8(out, 3, 3, 255, 0, 0, 0);
    }

    @Test
    void jpegGreyIsReadAsStored() throws Exception {
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                img.getRaster().setSample(x, y, 0, 128);
            }
        }
        RgbImage out = ImageLoader.load(write(img, "jpeg", "grey.jpg"));
        assertPixel8(out, 8, 8, 128, 128, 128, 2);
    }

    /** 64×32, a red 16×16 block at the top-left, white elsewhere. */
    private static BufferedImage markedCorner() {
        BufferedImage img = halves(BufferedImage.TYPE_INT_RGB, 64, 32, 0xFFFFFF, 0xFFFFFF);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                img.setRGB(x, y, 0xFF0000);
            }
        }
        return img;
    }

    /** A JPEG with an EXIF APP1 (big-endian TIFF, one IFD entry: Orientation) spliced in after SOI. */
    static byte[] jpegWithOrientation(BufferedImage img, int orientation) throws IOException {
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, "jpeg", plain));
        byte[] jpeg = plain.toByteArray();
        byte[] tiff = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte) orientation, 0, 0,
                0, 0, 0, 0};
        int length = 2 + 6 + tiff.length;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, 2);
        out.write(new byte[] {(byte) 0xFF, (byte) 0xE1, (byte) (length >> 8), (byte) length, 'E', 'x', 'i', 'f', 0, 0});
        out.write(tiff);
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }

    @Test
    void jpegWithoutOrientationStaysAsStored() throws Exception {
        RgbImage out = ImageLoader.load(write(markedCorner(), "jpeg", "plain.jpg"));
        assertEquals(64, out.width());
        assertEquals(32, out.height());
        assertPixel8(out, 4, 4, 255, 0, 0, 12);
        assertPixel8(out, 60, 4, 255, 255, 255, 12);
    }

    /** Orientation 6: the camera was turned clockwise; the stored top-left corner shows at the top-right. */
    @Test
    void jpegExifOrientation6TurnsThePicture() throws Exception {
        Path file = dir.resolve("rotated.jpg");
        Files.write(file, jpegWithOrientation(markedCorner(), 6));
        assertEquals(6, ExifOrientation.read(file));
        RgbImage out = ImageLoader.load(file);
        assertEquals(32, out.width());
        assertEquals(64, out.height());
        assertPixel8(out, 28, 4, 255, 0, 0, 12);
        assertPixel8(out, 4, 4, 255, 255, 255, 12);
        assertPixel8(out, 28, 60, 255, 255, 255, 12);
    }

    @Test
    void jpegExifOrientation3TurnsItUpsideDown() throws Exception {
        Path file = dir.resolve("upside.jpg");
        Files.write(file, jpegWithOrientation(markedCorner(), 3));
        RgbImage out = ImageLoader.load(file);
        assertEquals(64, out.width());
        assertEquals(32, out.height());
        assertPixel8(out, 60, 28, 255, 0, 0, 12);
        assertPixel8(out, 4, 4, 255, 255, 255, 12);
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(ImageLoaderFormatsTest.class.getResource("/images/" + name).toURI());
    }

    /** Made with PIL (see resources/images/README.md); no ICC profile, so colours are approximate. */
    @Test
    void cmykJpeg() throws Exception {
        RgbImage out = ImageLoader.load(resource("cyan-black-16x16-cmyk.jpg"));
        assertEquals(16, out.width());
        assertEquals(16, out.height());
        float[] p = out.rgb();
        int cyan = (4 * 16 + 2) * 3;
        int black = (4 * 16 + 13) * 3;
        assertTrue(p[cyan] < 0.3f && p[cyan + 1] > 0.5f && p[cyan + 2] > 0.7f, "cyan half: "
                + p[cyan] + "," + p[cyan + 1] + "," + p[cyan + 2]);
        assertTrue(p[black] < 0.25f && p[black + 1] < 0.25f && p[black + 2] < 0.25f, "black half: "
                + p[black] + "," + p[black + 1] + "," + p[black + 2]);
    }

    @Test
    void losslessWebp() throws Exception {
        RgbImage out = ImageLoader.load(resource("red-blue-8x6.webp"));
        assertEquals(8, out.width());
        assertEquals(6, out.height());
        assertPixel8(out, 0, 0, 255, 0, 0, 0);
        assertPixel8(out, 3, 5, 255, 0, 0, 0);
        assertPixel8(out, 4, 0, 0, 0, 255, 0);
        assertPixel8(out, 7, 5, 0, 0, 255, 0);
    }
}
