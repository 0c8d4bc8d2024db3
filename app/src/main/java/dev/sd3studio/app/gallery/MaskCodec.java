package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.RgbImage;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.Iterator;

/**
 * An inpainting mask as text for the picture's metadata: a 1-bit PNG in Base64 (a few KB even at
 * 1024×1024), so the picture's own file says exactly which part was repainted.
 */
public final class MaskCodec {
    /**
     * The largest side a stored mask may have when nothing smaller bounds it. A stored mask has the
     * picture's output size, and SD3 models make at most pos_embed_max_size (192) patches of 16
     * pixels = 3072 a side; the engine's api does not export that bound, so this leaves some room.
     */
    public static final int MAX_SIDE = 4096;

    private MaskCodec() {
    }

    /** White where the mask's grey is 128 or more (the engine's binarization), black elsewhere. */
    public static String encode(RgbImage mask) {
        BufferedImage bits = new BufferedImage(mask.width(), mask.height(), BufferedImage.TYPE_BYTE_BINARY);
        for (int y = 0; y < mask.height(); y++) {
            for (int x = 0; x < mask.width(); x++) {
                int rgb = mask.argb(x, y);
                int grey = (((rgb >> 16) & 0xff) * 19595 + ((rgb >> 8) & 0xff) * 38470 + (rgb & 0xff) * 7471 + 0x8000) >> 16;
                bits.setRGB(x, y, grey >= 128 ? 0xffffffff : 0xff000000);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ImageOutputStream stream = new MemoryCacheImageOutputStream(out)) { // no disk cache (see PngFiles)
            ImageIO.write(bits, "png", stream);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    /**
     * The mask back as a black-and-white picture, at most {@link #MAX_SIDE} pixels a side; a damaged
     * or oversized value is an IOException.
     */
    public static RgbImage decode(String text) throws IOException {
        return decode(text, MAX_SIDE, MAX_SIDE);
    }

    /**
     * The mask back as a black-and-white picture. Its size is read from the PNG header first, and a
     * mask wider than {@code maxWidth} or taller than {@code maxHeight} is refused before a pixel is
     * decoded: a 31 KB 1-bit PNG can declare 16000 × 16000 pixels (3 GB as floats).
     *
     * @throws IOException naming what is wrong: not Base64, not a PNG, damaged, or too large
     */
    public static RgbImage decode(String text, int maxWidth, int maxHeight) throws IOException {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes(text)))) {
            ImageReader reader = pngReader(in);
            try {
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w > maxWidth || h > maxHeight) {
                    throw new IOException("it is " + w + "x" + h + " pixels, larger than the picture it belongs to"
                            + " (at most " + maxWidth + "x" + maxHeight + "), so it was not read");
                }
                return toRgb(reader.read(0));
            } finally {
                reader.dispose();
            }
        } catch (RuntimeException e) {
            // ImageIO's PNG reader throws unchecked exceptions on some malformed chunks
            throw new IOException("the stored mask is damaged (" + e.getMessage() + ")", e);
        }
    }

    private static byte[] bytes(String text) throws IOException {
        try {
            return Base64.getDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            throw new IOException("the stored mask is not valid Base64", e);
        }
    }

    private static ImageReader pngReader(ImageInputStream in) throws IOException {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        while (readers.hasNext()) {
            ImageReader r = readers.next();
            if (r.getOriginatingProvider().getFormatNames()[0].equalsIgnoreCase("png")) {
                r.setInput(in, true, true);
                return r;
            }
            r.dispose();
        }
        throw new IOException("the stored mask is not a PNG");
    }

    private static RgbImage toRgb(BufferedImage image) {
        float[] rgb = new float[image.getWidth() * image.getHeight() * 3];
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                float v = (image.getRGB(x, y) & 0xff) >= 128 ? 1f : 0f;
                int i = (y * image.getWidth() + x) * 3;
                rgb[i] = v;
                rgb[i + 1] = v;
                rgb[i + 2] = v;
            }
        }
        return new RgbImage(image.getWidth(), image.getHeight(), rgb);
    }
}
