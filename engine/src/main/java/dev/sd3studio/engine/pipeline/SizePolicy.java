package dev.sd3studio.engine.pipeline;

/**
 * The output size for image-to-image when none is given: the picture's own aspect ratio at about
 * the model's default pixel count, each side rounded to the nearest multiple the model needs
 * (never below one multiple). E.g. a 4000×3000 photo on a 1024² model gives 1184×880. A side that
 * would pass the model's largest size is capped there, the other side shrunk to keep the aspect.
 */
final class SizePolicy {
    private SizePolicy() {
    }

    public static int[] forImage(int imageWidth, int imageHeight, int defaultWidth, int defaultHeight, int multiple) {
        return forImage(imageWidth, imageHeight, defaultWidth, defaultHeight, multiple, Integer.MAX_VALUE);
    }

    /** @param maxSide the largest side the model takes (a multiple of {@code multiple}) */
    public static int[] forImage(int imageWidth, int imageHeight, int defaultWidth, int defaultHeight, int multiple,
                                 int maxSide) {
        double area = (double) defaultWidth * defaultHeight;
        double aspect = (double) imageWidth / imageHeight;
        double w = Math.sqrt(area * aspect);
        double h = Math.sqrt(area / aspect);
        double shrink = Math.min(1.0, maxSide / Math.max(w, h));
        int max = Math.max(multiple, maxSide / multiple * multiple);
        return new int[] {roundTo(w * shrink, multiple, max), roundTo(h * shrink, multiple, max)};
    }

    private static int roundTo(double value, int multiple, int max) {
        long rounded = Math.round(value / multiple) * multiple;
        return (int) Math.min(max, Math.max(multiple, rounded));
    }
}
