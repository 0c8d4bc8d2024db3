package dev.sd3studio.engine.image;

import dev.sd3studio.engine.api.RgbImage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The EXIF orientation tag of a JPEG (cameras store pictures sideways and say so there), read from
 * the APP1 segment without a metadata library, and applied to the decoded pixels.
 */
final class ExifOrientation {
    private static final int SCAN_LIMIT = 256 * 1024;

    private ExifOrientation() {
    }

    /** 1..8 as in the EXIF standard; 1 (as stored) when absent or not a JPEG. */
    static int read(Path file) {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(SCAN_LIMIT);
        } catch (IOException e) {
            return 1;
        }
        if (head.length < 4 || (head[0] & 0xff) != 0xFF || (head[1] & 0xff) != 0xD8) {
            return 1;
        }
        int pos = 2;
        while (pos + 4 <= head.length && (head[pos] & 0xff) == 0xFF) {
            int marker = head[pos + 1] & 0xff;
            int length = ((head[pos + 2] & 0xff) << 8) | (head[pos + 3] & 0xff);
            if (marker == 0xE1 && pos + 10 < head.length && head[pos + 4] == 'E' && head[pos + 5] == 'x'
                    && head[pos + 6] == 'i' && head[pos + 7] == 'f') {
                return fromTiff(head, pos + 10, Math.min(head.length, pos + 2 + length));
            }
            if (marker == 0xDA || length < 2) {
                break;
            }
            pos += 2 + length;
        }
        return 1;
    }

    private static int fromTiff(byte[] b, int start, int end) {
        if (start + 8 > end) {
            return 1;
        }
        boolean little = b[start] == 'I';
        int ifd = start + u32(b, start + 4, little);
        if (ifd + 2 > end) {
            return 1;
        }
        int entries = u16(b, ifd, little);
        for (int i = 0; i < entries; i++) {
            int e = ifd + 2 + i * 12;
            if (e + 12 > end) {
                return 1;
            }
            if (u16(b, e, little) == 0x0112) {
                int v = u16(b, e + 8, little);
                return v >= 1 && v <= 8 ? v : 1;
            }
        }
        return 1;
    }

    private static int u16(byte[] b, int i, boolean little) {
        return little ? (b[i] & 0xff) | ((b[i + 1] & 0xff) << 8) : ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
    }

    private static int u32(byte[] b, int i, boolean little) {
        return little ? u16(b, i, true) | (u16(b, i + 2, true) << 16) : (u16(b, i, false) << 16) | u16(b, i + 2, false);
    }

    /** Rotates/mirrors so the picture is upright. */
    static RgbImage apply(RgbImage img, int orientation) {
        if (orientation <= 1) {
            return img;
        }
        int w = img.width();
        int h = img.height();
        boolean swap = orientation >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        float[] out = new float[ow * oh * 3];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> { sx = w - 1 - x; sy = y; }
                    case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
                    case 4 -> { sx = x; sy = h - 1 - y; }
                    case 5 -> { sx = y; sy = x; }
                    case 6 -> { sx = y; sy = h - 1 - x; }
                    case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }
                    default -> { sx = w - 1 - y; sy = x; }
                }
                System.arraycopy(img.rgb(), (sy * w + sx) * 3, out, (y * ow + x) * 3, 3);
            }
        }
        return new RgbImage(ow, oh, out);
    }
}
