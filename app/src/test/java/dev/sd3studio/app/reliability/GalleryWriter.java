package dev.sd3studio.app.reliability;

import dev.sd3studio.app.gallery.GalleryStore;
import dev.sd3studio.engine.api.RgbImage;

import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/** Child process for the kill -9 runs: saves noise pictures into a gallery and names each one saved. */
public final class GalleryWriter {
    private GalleryWriter() {
    }

    public static void main(String[] args) throws Exception {
        GalleryStore store = new GalleryStore(Path.of(args[0]));
        Random random = new Random(Long.parseLong(args[1]));
        for (int i = 0; ; i++) {
            float[] rgb = new float[384 * 384 * 3];
            for (int p = 0; p < rgb.length; p++) {
                rgb[p] = random.nextFloat();
            }
            Path file = store.add(new RgbImage(384, 384, rgb), Map.of("prompt", "noise " + i)).file();
            System.out.println(file.getFileName());
            System.out.flush();
        }
    }
}
