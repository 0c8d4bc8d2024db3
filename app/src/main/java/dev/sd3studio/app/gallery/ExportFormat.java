package dev.sd3studio.app.gallery;

import javax.imageio.ImageIO;
import java.util.Arrays;
import java.util.List;

/** Export file formats; WebP only where an ImageIO WebP writer is installed. */
public enum ExportFormat {
    PNG("png", "PNG (lossless)"),
    JPEG("jpg", "JPEG"),
    WEBP("webp", "WebP");

    private final String extension;
    private final String label;

    ExportFormat(String extension, String label) {
        this.extension = extension;
        this.label = label;
    }

    public String extension() {
        return extension;
    }

    public boolean lossy() {
        return this != PNG;
    }

    /** The formats this JVM can write. */
    public static List<ExportFormat> available() {
        return Arrays.stream(values())
                .filter(f -> ImageIO.getImageWritersByFormatName(f == JPEG ? "jpeg" : f.extension).hasNext())
                .toList();
    }

    @Override
    public String toString() {
        return label;
    }
}
