package dev.sd3studio.engine.pipeline;

/**
 * The output size for image-to-image when none is given: the picture's own aspect ratio at about
 * the model's default pixel count, each side rounded to the nearest multiple the model needs.
 */
public final class SizePolicy {
    private SizePolicy() {
    }

    public static int[] forImage(int imageWidth, int imageHeight, int defaultWidth, int defaultHeight, int multiple) {
        double area = (double) defaultWidth * defaultHeight;
        double aspect = (double) imageWidth / imageHeight;
        int w = roundTo(Math.sqrt(area * aspect), multiple);
        int h = roundTo(Math.sqrt(area / aspect), multiple);
        return new int[] {w, h};
    }

    private static int roundTo(double value, int multiple) {
        return (int) Math.max(multiple, Math.round(value / multiple) * multiple);
    }
}
