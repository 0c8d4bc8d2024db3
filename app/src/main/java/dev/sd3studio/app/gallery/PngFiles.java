package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.RgbImage;
import dev.sd3studio.engine.api.AtomicFiles;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** PNG files with text chunks, written atomically and read back. */
public final class PngFiles {
    private PngFiles() {
    }

    public static BufferedImage toBufferedImage(RgbImage image) {
        BufferedImage out = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                out.setRGB(x, y, image.argb(x, y));
            }
        }
        return out;
    }

    /** Encodes a PNG with {@code text} as tEXt/iTXt chunks. */
    public static byte[] encode(BufferedImage image, Map<String, String> text) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try {
            IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), null);
            if (!text.isEmpty()) {
                String format = "javax_imageio_png_1.0";
                IIOMetadataNode root = new IIOMetadataNode(format);
                IIOMetadataNode itxt = new IIOMetadataNode("iTXt");
                // sorted, so that the same picture and parameters always give the same bytes
                new java.util.TreeMap<>(text).forEach((k, v) -> {
                    IIOMetadataNode e = new IIOMetadataNode("iTXtEntry");
                    e.setAttribute("keyword", k);
                    e.setAttribute("compressionFlag", "FALSE");
                    e.setAttribute("compressionMethod", "0");
                    e.setAttribute("languageTag", "");
                    e.setAttribute("translatedKeyword", "");
                    e.setAttribute("text", v);
                    itxt.appendChild(e);
                });
                root.appendChild(itxt);
                meta.mergeTree(format, root);
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            // in memory: ImageIO's default disk cache leaves an imageio*.tmp behind when the process is killed
            try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
                writer.setOutput(out);
                writer.write(new IIOImage(image, null, meta));
            }
            return bytes.toByteArray();
        } finally {
            writer.dispose();
        }
    }

    public static void write(Path file, RgbImage image, Map<String, String> text) throws IOException {
        AtomicFiles.write(file, encode(toBufferedImage(image), text));
    }

    /**
     * The text chunks (tEXt, zTXt and iTXt) of a PNG file, read with bounded work (see
     * {@link PngText}); a file that is not a PNG (a JPEG named .png, say) has none.
     */
    public static Map<String, String> readText(Path file) throws IOException {
        return PngText.read(file);
    }

    /** Whether the file starts like a PNG; pictures that do not are no gallery items. */
    public static boolean isPng(Path file) throws IOException {
        return PngText.isPng(file);
    }
}
