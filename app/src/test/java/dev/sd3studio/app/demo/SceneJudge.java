package dev.sd3studio.app.demo;

import dev.sd3studio.engine.api.RgbImage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Judges a demo-model picture by simple image analysis: the background is the median colour of
 * the border, the object is every pixel far from it; its mean colour and centroid must match the
 * prompt. The same rule our acceptance check applies.
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

    /** What is wrong with the picture for this scene; empty when it is right. */
    static List<String> judge(RgbImage img, Scene scene) {
        int w = img.width();
        int h = img.height();
        List<String> wrong = new ArrayList<>();
        double[] bg = borderMedian(img);
        if (!nearest(bg).equals(scene.background())) {
            wrong.add("background " + nearest(bg));
        }
        double sumR = 0, sumG = 0, sumB = 0, sumX = 0, sumY = 0;
        int n = 0;
        float[] p = img.rgb();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * 3;
                double r = RgbImage.to8bit(p[i]), g = RgbImage.to8bit(p[i + 1]), b = RgbImage.to8bit(p[i + 2]);
                if (Math.sqrt(sq(r - bg[0]) + sq(g - bg[1]) + sq(b - bg[2])) > 60) {
                    sumR += r;
                    sumG += g;
                    sumB += b;
                    sumX += x;
                    sumY += y;
                    n++;
                }
            }
        }
        if (n < 0.005 * w * h) {
            wrong.add("no object");
            return wrong;
        }
        String objectColour = nearest(new double[] {sumR / n, sumG / n, sumB / n});
        if (!objectColour.equals(scene.colour())) {
            wrong.add("object " + objectColour);
        }
        double cx = sumX / n / w;
        double cy = sumY / n / h;
        double[] expected = POSITIONS.get(scene.position());
        if (Math.abs(cx - expected[0]) > 0.17 || Math.abs(cy - expected[1]) > 0.17) {
            wrong.add(String.format("centroid (%.2f, %.2f)", cx, cy));
        }
        return wrong;
    }

    static double[] centroid(RgbImage img) {
        double[] bg = borderMedian(img);
        double sx = 0, sy = 0;
        int n = 0;
        float[] p = img.rgb();
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                int i = (y * img.width() + x) * 3;
                double d = Math.sqrt(sq(RgbImage.to8bit(p[i]) - bg[0]) + sq(RgbImage.to8bit(p[i + 1]) - bg[1])
                        + sq(RgbImage.to8bit(p[i + 2]) - bg[2]));
                if (d > 60) {
                    sx += x;
                    sy += y;
                    n++;
                }
            }
        }
        return n == 0 ? new double[] {-1, -1} : new double[] {sx / n / img.width(), sy / n / img.height()};
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
