package dev.sd3studio.app.demo;

import dev.sd3studio.engine.api.RgbImage;

import java.util.Random;

/**
 * Draws demo-model scenes exactly as the training data were drawn ({@code scenes.render} in
 * assets/recipes/demo-model): 4x4 supersampled shape on a flat background, the centre jittered and
 * kept inside the picture, sizes and shades varied.
 */
final class SceneRenderer {
    static final double JITTER = 0.11;
    static final double SHADE = 22.0;
    static final double MARGIN = 1.5 / 64;

    private SceneRenderer() {
    }

    /** A training-like picture of the scene, drawn with this random source. */
    static RgbImage random(SceneJudge.Scene s, Random rnd, int size) {
        double[] nominal = SceneJudge.POSITIONS.get(s.position());
        double cx = nominal[0] + uniform(rnd, -JITTER, JITTER);
        double cy = nominal[1] + uniform(rnd, -JITTER, JITTER);
        double r = s.size().equals("small") ? uniform(rnd, 0.08, 0.135) : uniform(rnd, 0.17, 0.25);
        double[] fg = shaded(SceneJudge.rgb(s.colour()), rnd, SHADE);
        double[] bg = shaded(SceneJudge.rgb(s.background()), rnd, SHADE / 2);
        return draw(s.shape(), cx, cy, r, fg, bg, size);
    }

    /** The shape centred at (cx, cy) (fractions, moved inwards so it stays whole) with circumradius r. */
    static RgbImage draw(String shape, double cx, double cy, double r, double[] fg, double[] bg, int size) {
        double[] reach = extent(shape, r); // left, right, up, down
        double x0 = Math.min(Math.max(cx, reach[0] + MARGIN), 1 - reach[1] - MARGIN);
        double y0 = Math.min(Math.max(cy, reach[2] + MARGIN), 1 - reach[3] - MARGIN);
        return render(size, fg, bg, (x, y) -> contains(shape, x0, y0, r, x, y));
    }

    /** A point of the picture, in fractions of its side. */
    @FunctionalInterface
    interface Region {
        boolean contains(double x, double y);
    }

    /**
     * {@code region} in {@code fg} on {@code bg} (0-255 per channel), 4×4 supersampled: each pixel mixes the two
     * by the share of its 16 sample points inside, then rounds to 8 bits as a PNG would.
     */
    static RgbImage render(int size, double[] fg, double[] bg, Region region) {
        int ss = 4;
        int n = size * ss;
        float[] rgb = new float[size * size * 3];
        for (int py = 0; py < size; py++) {
            for (int px = 0; px < size; px++) {
                int inside = 0;
                for (int sy = 0; sy < ss; sy++) {
                    for (int sx = 0; sx < ss; sx++) {
                        if (region.contains((px * ss + sx + 0.5) / n, (py * ss + sy + 0.5) / n)) {
                            inside++;
                        }
                    }
                }
                double cov = inside / (double) (ss * ss);
                for (int c = 0; c < 3; c++) {
                    double v = Math.clamp(Math.round(bg[c] * (1 - cov) + fg[c] * cov), 0, 255);
                    rgb[(py * size + px) * 3 + c] = (float) (v / 255.0);
                }
            }
        }
        return new RgbImage(size, size, rgb);
    }

    static double[] extent(String shape, double r) {
        return switch (shape) {
            case "circle" -> new double[] {r, r, r, r};
            case "square" -> new double[] {0.85 * r, 0.85 * r, 0.85 * r, 0.85 * r};
            default -> new double[] {1.1 * r * 0.866, 1.1 * r * 0.866, 1.1 * r, 1.1 * r * 0.5};
        };
    }

    private static boolean contains(String shape, double cx, double cy, double r, double x, double y) {
        switch (shape) {
            case "circle":
                return (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r;
            case "square":
                return Math.abs(x - cx) <= 0.85 * r && Math.abs(y - cy) <= 0.85 * r;
            default:
                // upright equilateral triangle, centroid (cx, cy), circumradius 1.1 r
                double big = 1.1 * r;
                double[][] pts = {{cx, cy - big}, {cx - big * 0.866, cy + big * 0.5}, {cx + big * 0.866, cy + big * 0.5}};
                for (int i = 0; i < 3; i++) {
                    double[] a = pts[i];
                    double[] b = pts[(i + 1) % 3];
                    if ((b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]) > 0) {
                        return false;
                    }
                }
                return true;
        }
    }

    private static double[] shaded(int[] rgb, Random rnd, double amount) {
        return new double[] {rgb[0] + uniform(rnd, -amount, amount), rgb[1] + uniform(rnd, -amount, amount),
                rgb[2] + uniform(rnd, -amount, amount)};
    }

    private static double uniform(Random rnd, double lo, double hi) {
        return lo + (hi - lo) * rnd.nextDouble();
    }
}
