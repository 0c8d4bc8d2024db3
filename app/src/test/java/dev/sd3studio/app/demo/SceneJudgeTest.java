package dev.sd3studio.app.demo;

import dev.sd3studio.engine.api.RgbImage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo-model judge on exact renders: right scenes pass, a wrong shape fails, copies have no spread. */
class SceneJudgeTest {

    private static List<SceneJudge.Scene> everyScene() {
        List<SceneJudge.Scene> out = new ArrayList<>();
        List<String> colours = new ArrayList<>(SceneJudge.COLOURS.keySet());
        for (String size : List.of("small", "large")) {
            for (String colour : colours) {
                for (String shape : SceneJudge.SHAPES) {
                    for (String position : SceneJudge.POSITIONS.keySet()) {
                        for (String background : colours) {
                            if (!background.equals(colour)) {
                                out.add(new SceneJudge.Scene(size, colour, shape, position, background));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    @Test
    void everyExactRenderOfTheGrammarPasses() {
        Random rnd = new Random(42);
        List<String> failures = new ArrayList<>();
        List<SceneJudge.Scene> scenes = everyScene();
        assertEquals(1680, scenes.size());
        for (SceneJudge.Scene s : scenes) {
            List<String> wrong = SceneJudge.judge(SceneRenderer.random(s, rnd, 64), s);
            if (!wrong.isEmpty()) {
                failures.add(SceneJudge.describe(s, wrong));
            }
        }
        // the data's shading (object ±22, background ±11 per channel) can bring a close pair such as orange on yellow
        // within the judge's 60-unit object threshold: no colour-distance judge finds that object. Such renders must
        // stay rare (1 of 1680 here); every other render passes whole.
        List<String> shapeOrPlace = failures.stream().filter(f -> !f.endsWith(": no object")).toList();
        assertTrue(shapeOrPlace.isEmpty(), shapeOrPlace.size() + " exact renders judged wrong, e.g. "
                + shapeOrPlace.stream().limit(5).toList());
        assertTrue(failures.size() <= scenes.size() / 500, failures.size() + " renders without a findable object: " + failures);
    }

    @Test
    void aRenderJudgedAsAnotherShapeFails() {
        Random rnd = new Random(7);
        int checked = 0;
        for (SceneJudge.Scene s : everyScene()) {
            if (rnd.nextInt(8) != 0) {
                continue; // a sample keeps the test quick
            }
            RgbImage img = SceneRenderer.random(s, rnd, 64);
            for (String other : SceneJudge.SHAPES) {
                if (!other.equals(s.shape())) {
                    SceneJudge.Scene claimed = new SceneJudge.Scene(s.size(), s.colour(), other, s.position(), s.background());
                    List<String> wrong = SceneJudge.judge(img, claimed);
                    assertEquals(1, wrong.size(), s.shape() + " judged as " + other + ": " + wrong);
                    assertTrue(wrong.get(0).startsWith("shape " + s.shape()), wrong.get(0));
                    checked++;
                }
            }
        }
        assertTrue(checked > 300, "checked " + checked);
    }

    @Test
    void aCircleIsNotASquareNorARoundedSquare() {
        double[] red = {230, 30, 30};
        double[] blue = {30, 80, 230};
        SceneJudge.Scene square = new SceneJudge.Scene("large", "red", "square", "in the center", "blue");
        SceneJudge.Scene circle = new SceneJudge.Scene("large", "red", "circle", "in the center", "blue");
        RgbImage round = SceneRenderer.draw("circle", 0.5, 0.5, 0.21, red, blue, 64);
        RgbImage cornered = SceneRenderer.draw("square", 0.5, 0.5, 0.21, red, blue, 64);
        assertTrue(SceneJudge.judge(round, circle).isEmpty());
        assertEquals("circle", SceneJudge.analyse(round).geometry().shape());
        assertTrue(SceneJudge.judge(round, square).get(0).startsWith("shape circle"));
        assertTrue(SceneJudge.judge(cornered, square).isEmpty());
        assertTrue(SceneJudge.judge(cornered, circle).get(0).startsWith("shape square"));
        // the old demo model drew "circle" as a square with rounded corners: it must not pass as a circle
        RgbImage roundedSquare = superellipse(0.5, 0.5, 0.19, 4, red, blue);
        assertTrue(!SceneJudge.judge(roundedSquare, circle).isEmpty(), "rounded square passed as circle: "
                + SceneJudge.analyse(roundedSquare).geometry());
    }

    @Test
    void copiesHaveNoSpreadAndJitteredRendersDo() {
        SceneJudge.Scene s = new SceneJudge.Scene("large", "red", "circle", "in the center", "blue");
        RgbImage one = SceneRenderer.random(s, new Random(1), 64);
        assertEquals(0, SceneJudge.spread(Collections.nCopies(4, one)), 1e-12);
        Random rnd = new Random(3);
        int above = 0;
        for (int k = 0; k < 50; k++) {
            List<RgbImage> four = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                four.add(SceneRenderer.random(s, rnd, 64));
            }
            above += SceneJudge.spread(four) > DemoModelTest.MIN_SEED_SPREAD ? 1 : 0;
        }
        assertTrue(above >= 48, above + "/50 sets of 4 exact renders spread more than the bound");
    }

    /** |x|^p + |y|^p <= r^p: p = 2 a circle, large p a square; p = 4 a square with rounded corners. */
    private static RgbImage superellipse(double cx, double cy, double r, double p, double[] fg, double[] bg) {
        return SceneRenderer.render(64, fg, bg,
                (x, y) -> Math.pow(Math.abs(x - cx), p) + Math.pow(Math.abs(y - cy), p) <= Math.pow(r, p));
    }
}
