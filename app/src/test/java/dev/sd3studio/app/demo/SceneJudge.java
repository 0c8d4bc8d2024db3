package dev.sd3studio.app.demo;

import dev.sd3studio.engine.api.RgbImage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Judges a demo-model picture by simple image analysis: the background is the median colour of
 * the border, the object is every pixel far from it; its colour, centroid and shape (by geometry)
 * must match the prompt. The same rule as the recipe's Python judge ({@code scenes.judge}).
 */
final class SceneJudge {
    static final Map<String, int[]> COLOURS = new LinkedHashMap<>();
    static final Map<String, double[]> POSITIONS = new LinkedHashMap<>();

    static {
        COLOURS.put("red", new int[] {230, 30, 30});
        COLOURS.put("green", new int[] {30, 170, 60});
        COLOURS.put("blue", new int[] {30, 80, 230});
        COLOURS.put("yellow", new int[] {240, 220, 40});
        COLOURS.put("orange", new int[] {245, 140, 20});
        COLOURS.put("purple", new int[] {140, 50, 180});
        COLOURS.put("white", new int[] {245, 245, 245});
        COLOURS.put("black", new int[] {20, 20, 20});
        POSITIONS.put("at the top left", new double[] {0.25, 0.25});
        POSITIONS.put("at the top right", new double[] {0.75, 0.25});
        POSITIONS.put("at the bottom left", new double[] {0.25, 0.75});
        POSITIONS.put("at the bottom right", new double[] {0.75, 0.75});
        POSITIONS.put("in the center", new double[] {0.5, 0.5});
    }

    static final List<String> SHAPES = List.of("circle", "square", "triangle");

    private SceneJudge() {
    }

    record Scene(String size, String colour, String shape, String position, String background) {
        String prompt() {
            return "a " + size + " " + colour + " " + shape + " " + position + " on a " + background + " background";
        }
    }

    /*
     * Shape rule, thresholds chosen from measured pictures (assets/recipes/demo-model/README.md):
     * fill = object area / (widest row x tallest column), top = share of the area in the upper half of
     * its box. Exact renders measure circle fill 0.77-0.81, square 1.00, upright triangle 0.52-0.61 with
     * top 0.23-0.32 (circles and squares 0.45-0.55); a soft-cornered triangle about 0.70, a square with
     * rounded corners 0.90-0.94.
     */
    static final double FILL_CIRCLE = 0.69;
    static final double FILL_SQUARE = 0.89;
    static final double FILL_TRIANGLE_MAX = 0.74;
    static final double TOP_TRIANGLE = 0.38;
    static final double TOP_LOW = 0.40;
    static final double TOP_HIGH = 0.60;

    /** Shape measures of the object (see the rule above); area in pixels. */
    record Geometry(double fill, double top, double area) {
        String shape() {
            if (top < TOP_TRIANGLE && fill < FILL_TRIANGLE_MAX) {
                return "triangle";
            }
            if (top < TOP_LOW || top > TOP_HIGH || fill < FILL_CIRCLE) {
                return "unclear";
            }
            return fill >= FILL_SQUARE ? "square" : "circle";
        }
    }

    /** The object of a picture: its mask, its colour (from its inner half, edges mix with the background) and shape. */
    record Analysis(double[] background, boolean[] mask, int objectPixels, double[] objectColour, double cx, double cy,
            Geometry geometry) {
    }

    static Analysis analyse(RgbImage img) {
        int w = img.width();
        int h = img.height();
        double[] bg = borderMedian(img);
        double[] dist = new double[w * h];
        boolean[] far = new boolean[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int[] px = pixel(img, x, y);
                double d = Math.sqrt(sq(px[0] - bg[0]) + sq(px[1] - bg[1]) + sq(px[2] - bg[2]));
                dist[y * w + x] = d;
                far[y * w + x] = d > 60;
            }
        }
        boolean[] mask = largestComponent(far, w, h);
        int n = 0;
        double sumX = 0, sumY = 0;
        for (int i = 0; i < w * h; i++) {
            if (mask[i]) {
                sumX += i % w;
                sumY += i / w;
                n++;
            }
        }
        if (n == 0) {
            return new Analysis(bg, mask, 0, null, -1, -1, null);
        }
        double[] objectDist = new double[n];
        int k = 0;
        for (int i = 0; i < w * h; i++) {
            if (mask[i]) {
                objectDist[k++] = dist[i];
            }
        }
        Arrays.sort(objectDist);
        double innerFrom = n % 2 == 1 ? objectDist[n / 2] : (objectDist[n / 2 - 1] + objectDist[n / 2]) / 2;
        double[] fg = new double[3];
        int inner = 0;
        for (int i = 0; i < w * h; i++) {
            if (mask[i] && dist[i] >= innerFrom) {
                int[] px = pixel(img, i % w, i / w);
                for (int c = 0; c < 3; c++) {
                    fg[c] += px[c];
                }
                inner++;
            }
        }
        for (int c = 0; c < 3; c++) {
            fg[c] /= inner;
        }
        return new Analysis(bg, mask, n, fg, (sumX / n + 0.5) / w, (sumY / n + 0.5) / h, geometry(img, mask, bg, fg));
    }

    /**
     * Fill and top from the coverage map: each pixel's share of the object colour, 0..1, counted only
     * on the object and the pixel ring around it (its antialiased edge); background noise elsewhere
     * would otherwise add area and stretch the box.
     */
    static Geometry geometry(RgbImage img, boolean[] mask, double[] bg, double[] fg) {
        int w = img.width();
        int h = img.height();
        double[] d = {fg[0] - bg[0], fg[1] - bg[1], fg[2] - bg[2]};
        double dd = Math.max(sq(d[0]) + sq(d[1]) + sq(d[2]), 1.0);
        double[] rows = new double[h];
        double[] cols = new double[w];
        double area = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (!nearMask(mask, w, h, x, y)) {
                    continue;
                }
                int[] px = pixel(img, x, y);
                double cov = ((px[0] - bg[0]) * d[0] + (px[1] - bg[1]) * d[1] + (px[2] - bg[2]) * d[2]) / dd;
                cov = Math.clamp(cov, 0.0, 1.0);
                rows[y] += cov;
                cols[x] += cov;
                area += cov;
            }
        }
        double width = Arrays.stream(rows).max().orElse(0);
        double height = Arrays.stream(cols).max().orElse(0);
        int first = -1, last = -1;
        for (int y = 0; y < h; y++) {
            if (rows[y] > 0.25) {
                last = y;
                if (first < 0) {
                    first = y;
                }
            }
        }
        double top = 0;
        if (first >= 0) {
            double mid = (first + last + 1) / 2.0;
            for (int y = 0; y < h; y++) {
                top += rows[y] * Math.clamp(mid - y, 0.0, 1.0);
            }
            top /= Math.max(area, 1e-6);
        }
        return new Geometry(area / Math.max(width * height, 1e-6), top, area);
    }

    /** The largest 8-connected part of the mask: stray pixels elsewhere are not the object. */
    static boolean[] largestComponent(boolean[] mask, int w, int h) {
        int[] label = new int[w * h];
        int best = 0, bestSize = 0, labels = 0;
        int[] stack = new int[w * h];
        for (int start = 0; start < w * h; start++) {
            if (!mask[start] || label[start] != 0) {
                continue;
            }
            labels++;
            label[start] = labels;
            int top = 0, size = 0;
            stack[top++] = start;
            while (top > 0) {
                int i = stack[--top];
                size++;
                int x = i % w;
                int y = i / w;
                for (int yy = Math.max(y - 1, 0); yy <= Math.min(y + 1, h - 1); yy++) {
                    for (int xx = Math.max(x - 1, 0); xx <= Math.min(x + 1, w - 1); xx++) {
                        int j = yy * w + xx;
                        if (mask[j] && label[j] == 0) {
                            label[j] = labels;
                            stack[top++] = j;
                        }
                    }
                }
            }
            if (size > bestSize) {
                best = labels;
                bestSize = size;
            }
        }
        boolean[] out = new boolean[w * h];
        for (int i = 0; i < w * h; i++) {
            out[i] = bestSize > 0 && label[i] == best;
        }
        return out;
    }

    private static boolean nearMask(boolean[] mask, int w, int h, int x, int y) {
        for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
                int xx = x + dx;
                int yy = y + dy;
                if (xx >= 0 && yy >= 0 && xx < w && yy < h && mask[yy * w + xx]) {
                    return true;
                }
            }
        }
        return false;
    }

    /** What is wrong with the picture for this scene; empty when it is right. */
    static List<String> judge(RgbImage img, Scene scene) {
        List<String> wrong = new ArrayList<>();
        Analysis a = analyse(img);
        if (!nearest(a.background()).equals(scene.background())) {
            wrong.add("background " + nearest(a.background()));
        }
        if (a.objectPixels() < 0.005 * img.width() * img.height()) {
            wrong.add("no object");
            return wrong;
        }
        String objectColour = nearest(a.objectColour());
        if (!objectColour.equals(scene.colour())) {
            wrong.add("object " + objectColour);
        }
        double[] expected = POSITIONS.get(scene.position());
        if (Math.abs(a.cx() - expected[0]) > 0.17 || Math.abs(a.cy() - expected[1]) > 0.17) {
            wrong.add(String.format("centroid (%.2f, %.2f)", a.cx(), a.cy()));
        }
        Geometry g = a.geometry();
        if (!g.shape().equals(scene.shape())) {
            wrong.add(String.format("shape %s (fill %.2f, top %.2f)", g.shape(), g.fill(), g.top()));
        }
        return wrong;
    }

    /** The judgement without its shape verdict: colour, background and place only. */
    static List<String> colourAndPlace(List<String> wrong) {
        return wrong.stream().filter(w -> !w.startsWith("shape ")).toList();
    }

    static double[] centroid(RgbImage img) {
        Analysis a = analyse(img);
        return new double[] {a.cx(), a.cy()};
    }

    /**
     * How much pictures of one prompt differ: the largest distance of one picture's (centroid x,
     * centroid y, size) from their mean, in fractions of the side; size = sqrt(object area share).
     */
    static double spread(List<RgbImage> imgs) {
        List<double[]> pts = new ArrayList<>();
        for (RgbImage img : imgs) {
            Analysis a = analyse(img);
            if (a.objectPixels() > 0) {
                pts.add(new double[] {a.cx(), a.cy(), Math.sqrt(a.geometry().area() / (img.width() * img.height()))});
            }
        }
        if (pts.size() < 2) {
            return 0;
        }
        double[] mean = new double[3];
        for (double[] p : pts) {
            for (int c = 0; c < 3; c++) {
                mean[c] += p[c] / pts.size();
            }
        }
        double max = 0;
        for (double[] p : pts) {
            max = Math.max(max, Math.sqrt(sq(p[0] - mean[0]) + sq(p[1] - mean[1]) + sq(p[2] - mean[2])));
        }
        return max;
    }

    private static double[] borderMedian(RgbImage img) {
        int w = img.width();
        int h = img.height();
        List<int[]> border = new ArrayList<>();
        for (int x = 0; x < w; x++) {
            border.add(pixel(img, x, 0));
            border.add(pixel(img, x, h - 1));
        }
        for (int y = 0; y < h; y++) {
            border.add(pixel(img, 0, y));
            border.add(pixel(img, w - 1, y));
        }
        double[] out = new double[3];
        for (int c = 0; c < 3; c++) {
            final int ch = c;
            double[] v = border.stream().mapToDouble(px -> px[ch]).sorted().toArray();
            out[c] = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        }
        return out;
    }

    private static int[] pixel(RgbImage img, int x, int y) {
        int i = (y * img.width() + x) * 3;
        float[] p = img.rgb();
        return new int[] {RgbImage.to8bit(p[i]), RgbImage.to8bit(p[i + 1]), RgbImage.to8bit(p[i + 2])};
    }

    static String nearest(double[] rgb) {
        String best = null;
        double bestD = Double.MAX_VALUE;
        for (var e : COLOURS.entrySet()) {
            double d = sq(e.getValue()[0] - rgb[0]) + sq(e.getValue()[1] - rgb[1]) + sq(e.getValue()[2] - rgb[2]);
            if (d < bestD) {
                bestD = d;
                best = e.getKey();
            }
        }
        return best;
    }

    private static double sq(double v) {
        return v * v;
    }

    /** 40 scenes covering every colour, shape, position and size, each background unlike its shape. */
    static List<Scene> coveringSet() {
        List<String> colours = new ArrayList<>(COLOURS.keySet());
        List<String> positions = new ArrayList<>(POSITIONS.keySet());
        List<Scene> out = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String colour = colours.get(i % 8);
            String background = colours.get((i % 8 + 1 + (i / 8) % 7) % 8);
            out.add(new Scene(i % 2 == 0 ? "large" : "small", colour, SHAPES.get(i % 3), positions.get(i % 5), background));
        }
        return out;
    }

    static String describe(Scene s, List<String> wrong) {
        return s.prompt() + ": " + String.join(", ", wrong);
    }

    static int[] rgb(String colour) {
        return Arrays.copyOf(COLOURS.get(colour), 3);
    }
}
