package dev.sd3studio.engine.image;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.api.RgbImage;

import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * Reads a picture a user drops (PNG, JPEG incl. CMYK, BMP, GIF's first frame, WebP) through ImageIO
 * and the TwelveMonkeys plugins, and refuses what it cannot read before spending memory on it:
 * the header's size is checked before any pixel is decoded. Alpha is composited over white and
 * JPEG EXIF orientation applied, so the picture comes out as a person sees it.
 */
public final class ImageLoader {
    /** Larger pictures would take gigabytes to decode; nothing SD3 makes needs them. */
    public static final long MAX_PIXELS = 64L * 1024 * 1024;
    public static final int MAX_SIDE = 16384;

    static {
        ImageIO.setUseCache(false);
        ImageIO.scanForPlugins();
    }

    private ImageLoader() {
    }

    public static RgbImage load(Path file) throws EngineException {
        if (!Files.exists(file)) {
            throw bad(file, "does not exist");
        }
        if (!Files.isRegularFile(file)) {
            throw bad(file, "is not a file");
        }
        try {
            if (Files.size(file) == 0) {
                throw bad(file, "is empty (0 bytes)");
            }
        } catch (IOException e) {
            throw bad(file, "cannot be read: " + e.getMessage());
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw bad(file, "cannot be read");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw bad(file, "is not a picture in a known format (PNG, JPEG, BMP, GIF or WebP)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w <= 0 || h <= 0) {
                    throw bad(file, "has no pixels (" + w + "x" + h + ")");
                }
                if (w > MAX_SIDE || h > MAX_SIDE || (long) w * h > MAX_PIXELS) {
                    throw bad(file, "is " + w + "x" + h + " pixels, too large to use (at most " + MAX_SIDE
                            + " per side and " + (MAX_PIXELS / 1024 / 1024) + " megapixels); scale it down first");
                }
                int orientation = ExifOrientation.read(file);
                ImageReadParam param = reader.getDefaultReadParam();
                BufferedImage image = reader.read(0, param);
                return ExifOrientation.apply(toRgb(image), orientation);
            } finally {
                reader.dispose();
            }
        } catch (EngineException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw bad(file, "is damaged or truncated and cannot be decoded"
                    + (e.getMessage() == null ? "" : " (" + firstLine(e.getMessage()) + ")")
                    + "; open it in an image editor and save it again");
        } catch (OutOfMemoryError e) {
            throw new EngineException(Kind.BAD_IMAGE, file + " needs more memory to decode than is available;"
                    + " scale it down first.");
        }
    }

    private static String firstLine(String s) {
        String line = s.lines().findFirst().orElse("").strip();
        return line.replaceAll("\\w*Exception:?\\s*", "");
    }

    private static EngineException bad(Path file, String what) {
        return new EngineException(Kind.BAD_IMAGE, "image " + file + " " + what + ".");
    }

    /** Any BufferedImage to RGB floats in [0, 1], transparent pixels over white. */
    static RgbImage toRgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        float[] rgb = new float[w * h * 3];
        int[] row = new int[w];
        boolean alpha = image.getColorModel().hasAlpha();
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                float a = alpha ? ((p >>> 24) & 0xff) / 255f : 1f;
                int i = (y * w + x) * 3;
                rgb[i] = over(((p >> 16) & 0xff) / 255f, a);
                rgb[i + 1] = over(((p >> 8) & 0xff) / 255f, a);
                rgb[i + 2] = over((p & 0xff) / 255f, a);
            }
        }
        return new RgbImage(w, h, rgb);
    }

    private static float over(float c, float a) {
        return a >= 1f ? c : c * a + (1f - a);
    }
}
