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
}
