package dev.sd3studio.app.gallery;

import dev.sd3studio.engine.api.AtomicFiles;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes gallery items to a folder: PNG with the same text chunks as the gallery ({@code parameters}
 * and {@code sd3studio}), JPEG/WebP at a quality, metadata optional (in JPEG as a COM segment with
 * the {@code parameters} text). Existing files are never overwritten: names get a suffix.
 */
public final class Exporter {
    private static final String JPEG_TREE = "javax_imageio_jpeg_image_1.0";

    /** @param quality 0..1 for lossy formats */
    public record Options(ExportFormat format, float quality, boolean metadata) {
    }

    private Exporter() {
    }

    /** What an export wrote, and each item it could not read or write with the reason. */
    public record Report(List<Path> written, List<String> skipped) {
        public Report {
            written = List.copyOf(written);
            skipped = List.copyOf(skipped);
        }
    }

    /**
     * Writes every item it can; an unreadable item (deleted, damaged, not a picture) is skipped and
     * reported, not the end of the export. A failure to create the folder still stops it.
     */
    public static Report export(List<GalleryItem> items, Path folder, Options options) throws IOException {
        Files.createDirectories(folder);
        List<Path> written = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (GalleryItem item : items) {
            String name = item.file().getFileName().toString();
            try {
                BufferedImage image = Files.isRegularFile(item.file()) ? ImageIO.read(item.file().toFile()) : null;
                if (image == null) {
                    skipped.add(name + " (not a readable picture)");
                    continue;
                }
                Path target = freeName(folder, baseName(item.file()), options.format().extension());
                AtomicFiles.write(target, encode(rgb(image), item.parameters(), options));
                written.add(target);
            } catch (IOException | RuntimeException e) {
                skipped.add(name + " (" + e.getMessage() + ")");
            }
        }
        return new Report(written, skipped);
    }

    static byte[] encode(BufferedImage image, Map<String, String> params, Options options) throws IOException {
        if (options.format() == ExportFormat.PNG) {
            return PngFiles.encode(image, options.metadata() && !params.isEmpty()
                    ? Map.of(PngMetadata.PARAMETERS, PngMetadata.parametersText(params), PngMetadata.OURS,
                            PngMetadata.encode(params))
                    : Map.of());
        }
        String name = options.format() == ExportFormat.JPEG ? "jpeg" : "webp";
        ImageWriter writer = ImageIO.getImageWritersByFormatName(name).next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (param.canWriteCompressed()) {
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                if (param.getCompressionType() == null && param.getCompressionTypes().length > 0) {
                    param.setCompressionType(param.getCompressionTypes()[0]);
                }
                param.setCompressionQuality(Math.clamp(options.quality(), 0f, 1f));
            }
            IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), param);
            if (options.metadata() && !params.isEmpty() && options.format() == ExportFormat.JPEG) {
                addJpegComment(meta, PngMetadata.parametersText(params));
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) { // no disk cache (see PngFiles)
                writer.setOutput(out);
                writer.write(null, new IIOImage(image, null, meta), param);
            }
            return bytes.toByteArray();
        } finally {
            writer.dispose();
        }
    }

    private static void addJpegComment(IIOMetadata meta, String text) throws IOException {
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(JPEG_TREE);
        IIOMetadataNode sequence = (IIOMetadataNode) root.getElementsByTagName("markerSequence").item(0);
        IIOMetadataNode com = new IIOMetadataNode("com");
        com.setAttribute("comment", text);
        sequence.appendChild(com);
        meta.setFromTree(JPEG_TREE, root);
    }

    /** The COM text of a JPEG, or null: how tests and users read exported metadata back. */
    public static String jpegComment(Path file) throws IOException {
        try (var in = ImageIO.createImageInputStream(file.toFile())) {
            var reader = ImageIO.getImageReaders(in).next();
            try {
                reader.setInput(in);
                var root = (IIOMetadataNode) reader.getImageMetadata(0).getAsTree(JPEG_TREE);
                var coms = root.getElementsByTagName("com");
                if (coms.getLength() == 0) {
                    return null;
                }
                var com = (IIOMetadataNode) coms.item(0);
                Object user = com.getUserObject();
                return user instanceof byte[] b ? new String(b, java.nio.charset.StandardCharsets.ISO_8859_1)
                        : com.getAttribute("comment");
            } finally {
                reader.dispose();
            }
        }
    }

    /** JPEG has no alpha and ImageIO's PNG reader may hand back odd types: normalise to RGB. */
    private static BufferedImage rgb(BufferedImage in) {
        if (in.getType() == BufferedImage.TYPE_INT_RGB) {
            return in;
        }
        BufferedImage out = new BufferedImage(in.getWidth(), in.getHeight(), BufferedImage.TYPE_INT_RGB);
        var g = out.createGraphics();
        g.drawImage(in, 0, 0, null);
        g.dispose();
        return out;
    }

    private static String baseName(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    private static Path freeName(Path folder, String base, String ext) {
        Path p = folder.resolve(base + "." + ext);
        for (int i = 2; Files.exists(p); i++) {
            p = folder.resolve(base + "-" + i + "." + ext);
        }
        return p;
    }
}
