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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Reads a picture a user drops (PNG, JPEG incl. CMYK, BMP, GIF's first frame, WebP) through ImageIO
 * and the TwelveMonkeys plugins, and refuses what it cannot read before spending memory on it:
 * the header's size is checked before any pixel is decoded. Alpha is composited over white and
 * JPEG EXIF orientation applied, so the picture comes out as a person sees it.
 */
public final class ImageLoader {
    /** Header bound: more pixels than this are refused (decoding them would take seconds even subsampled). */
    public static final long MAX_PIXELS = 64L * 1024 * 1024;
    public static final int MAX_SIDE = 16384;
    /**
     * Memory bound: pictures with more pixels are decoded with every s-th pixel of every s-th row
     * (ImageIO source subsampling), so even a decompression bomb costs at most about 0.5 GB: up to
     * 8 bytes a pixel for the raster, 12 for the float copy, 12 more when EXIF turns it. Phone
     * photos up to 16 MP decode in full; the model works at about 1 MP anyway.
     */
    public static final long MAX_DECODED_PIXELS = 16L * 1024 * 1024;

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
                int[] size = headerSize(file, reader);
                int w = size[0];
                int h = size[1];
                if (w > MAX_SIDE || h > MAX_SIDE || (long) w * h > MAX_PIXELS) {
                    throw bad(file, "is " + w + "x" + h + " pixels, too large to use (at most " + MAX_SIDE
                            + " per side and " + (MAX_PIXELS / 1024 / 1024) + " megapixels); scale it down first");
                }
                int orientation = orientation(file);
                ImageReadParam param = reader.getDefaultReadParam();
                int s = subsampling(w, h);
                if (s > 1) {
                    param.setSourceSubsampling(s, s, 0, 0);
                }
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                BufferedImage image = reader.read(0, param);
                // the JPEG decoder fills a cut-off file with grey and only warns
                for (String w2 : warnings) {
                    if (w2.toLowerCase(java.util.Locale.ROOT).contains("premature end")) {
                        throw bad(file, "is truncated (" + firstLine(w2) + "); its lower part is missing, so"
                                + " use the complete file");
                    }
                }
                return ExifOrientation.apply(PixelConversion.toRgb(image), orientation);
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
            throw new EngineException(Kind.BAD_IMAGE, "image " + file + " needs more memory to decode than is"
                    + " available; scale it down first.");
        }
    }

    /** A damaged EXIF block costs only the orientation, not the picture. */
    private static int orientation(Path file) {
        try {
            return ExifOrientation.read(file);
        } catch (RuntimeException e) {
            return 1;
        }
    }

    /** Width and height from the header alone; a header that cannot say them is a damaged file. */
    private static int[] headerSize(Path file, ImageReader reader) throws EngineException {
        int w;
        int h;
        try {
            w = reader.getWidth(0);
            h = reader.getHeight(0);
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null ? "" : firstLine(e.getMessage());
            // The PNG reader refuses 0-pixel headers itself, in a cause ("Image width <= 0!").
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t.getMessage() != null && t.getMessage().matches("(?s).*(width|height) <= 0.*")) {
                    throw bad(file, "has no pixels (its header says width or height 0)");
                }
            }
            throw bad(file, "has a damaged header" + (why.isEmpty() ? "" : " (" + why + ")")
                    + "; open it in an image editor and save it again");
        }
        if (w <= 0 || h <= 0) {
            throw bad(file, "has no pixels (" + w + "x" + h + ")");
        }
        return new int[] {w, h};
    }

    /** The smallest step s with ceil(w/s)·ceil(h/s) within {@link #MAX_DECODED_PIXELS}. */
    static int subsampling(int w, int h) {
        int s = 1;
        while ((long) ceilDiv(w, s) * ceilDiv(h, s) > MAX_DECODED_PIXELS) {
            s++;
        }
        return s;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static String firstLine(String s) {
        String line = s.lines().findFirst().orElse("").strip();
        // Drops class names (javax.imageio.IIOException: ...) but keeps words like "Error reading".
        return line.replaceAll("[\\w.$]*\\w(Exception|Error)\\b:?\\s*", "").strip();
    }

    private static EngineException bad(Path file, String what) {
        return new EngineException(Kind.BAD_IMAGE, "image " + file + " " + what + ".");
    }
}
