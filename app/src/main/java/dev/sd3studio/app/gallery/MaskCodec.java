package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.RgbImage;

import javax.imageio.ImageIO;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;

/**
 * An inpainting mask as text for the picture's metadata: a 1-bit PNG in Base64 (a few KB even at
 * 1024×1024), so the picture's own file says exactly which part was repainted.
 */
public final class MaskCodec {
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

    /** The mask back as a black-and-white picture; a damaged value is an IOException. */
    public static RgbImage decode(String text) throws IOException {
        BufferedImage image;
        try {
            image = ImageIO.read(new MemoryCacheImageInputStream(
                    new ByteArrayInputStream(Base64.getDecoder().decode(text.strip()))));
        } catch (IllegalArgumentException e) {
            throw new IOException("the stored mask is not valid Base64", e);
        }
        if (image == null) {
            throw new IOException("the stored mask is not a PNG");
        }
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
