package dev.sd3studio.app.studio.view;

import javafx.scene.image.Image;

import java.util.List;
import java.util.stream.IntStream;

/** The app's icon in the sizes window managers pick from (title bar, task switcher, dock). */
public final class AppIcon {
    private static final int[] SIZES = {16, 32, 48, 64, 128, 256};

    private AppIcon() {
    }

    public static List<Image> images() {
        return IntStream.of(SIZES)
                .mapToObj(n -> new Image(AppIcon.class.getResource("/dev/sd3studio/app/icons/sd3studio-" + n + ".png")
                        .toExternalForm()))
                .toList();
    }
}
