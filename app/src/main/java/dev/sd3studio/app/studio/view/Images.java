package dev.sd3studio.app.studio.view;

import dev.sd3studio.engine.api.RgbImage;
import javafx.scene.image.Image;
import javafx.scene.image.PixelReader;
import javafx.scene.image.PixelWriter;
import javafx.scene.image.WritableImage;

/** Conversions between the engine's RgbImage and JavaFX images (views only). */
final class Images {
    private Images() {
    }

    static WritableImage toFx(RgbImage img) {
        WritableImage out = new WritableImage(img.width(), img.height());
        PixelWriter w = out.getPixelWriter();
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                w.setArgb(x, y, img.argb(x, y));
            }
        }
        return out;
    }

    static RgbImage fromFx(Image img) {
        int w = (int) img.getWidth();
        int h = (int) img.getHeight();
        float[] rgb = new float[w * h * 3];
        PixelReader r = img.getPixelReader();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = r.getArgb(x, y);
                int i = (y * w + x) * 3;
                rgb[i] = ((argb >> 16) & 0xff) / 255f;
                rgb[i + 1] = ((argb >> 8) & 0xff) / 255f;
                rgb[i + 2] = (argb & 0xff) / 255f;
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /**
     * {@code img} enlarged by a whole factor with nearest-neighbour, so a 64 px picture shown large
     * keeps crisp pixels on every rendering pipeline (some ignore ImageView's smooth=false).
     */
    static Image nearest(Image img, int factor) {
        if (img == null || factor <= 1 || img.getPixelReader() == null) {
            return img;
        }
        int w = (int) img.getWidth();
        int h = (int) img.getHeight();
        javafx.scene.image.PixelReader r = img.getPixelReader();
        WritableImage out = new WritableImage(w * factor, h * factor);
        javafx.scene.image.PixelWriter pw = out.getPixelWriter();
        for (int y = 0; y < h * factor; y++) {
            for (int x = 0; x < w * factor; x++) {
                pw.setArgb(x, y, r.getArgb(x / factor, y / factor));
            }
        }
        return out;
    }

    /** The whole enlargement that fits {@code img} into a box, at least 1. */
    static int factor(Image img, double boxWidth, double boxHeight) {
        if (img == null || img.getWidth() <= 0 || img.getHeight() <= 0) {
            return 1;
        }
        return Math.max(1, (int) Math.floor(Math.min(boxWidth / img.getWidth(), boxHeight / img.getHeight())));
    }
}
