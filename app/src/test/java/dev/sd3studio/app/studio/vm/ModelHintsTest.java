package dev.sd3studio.app.studio.vm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The prompt template's matcher: what it accepts, and no exponential time on a template made to choke a regex. */
class ModelHintsTest {
    private static ModelHints template(String t) {
        return new ModelHints(List.of(), List.of(), t, "hint", 0, java.util.OptionalDouble.empty());
    }

    @Test
    void promptsInsideTheTemplateFollowItForgivingCaseSpacingAndAFullStop() {
        ModelHints h = template("a {small|large} {red|blue} {circle|square} on a {red|blue} background");
        assertTrue(h.follows("a small red circle on a blue background"));
        assertTrue(h.follows("  A LARGE  blue square on a red background. "));
        assertTrue(h.follows("a large blue square on a red background!"));
        assertFalse(h.follows("a small green circle on a blue background"));
        assertFalse(h.follows("a small red circle on a blue background, 8k"));
        assertFalse(h.follows("a small red circle"));
        assertTrue(template("").follows("anything at all"));
    }

    @Test
    void aSizeTheModelWasNotTrainedAtGetsANotice() {
        ModelHints demo = new ModelHints(List.of(), List.of(new int[] {64, 64}), "", "", 0, java.util.OptionalDouble.empty());
        assertTrue(demo.sizeNotice(64, 64).isEmpty());
        assertEquals("This model was trained at 64×64; other sizes give poorer pictures.",
                demo.sizeNotice(128, 128).orElseThrow());
        assertTrue(demo.sizeNotice(64, 128).isPresent());
        assertTrue(ModelHints.NONE.sizeNotice(333, 16).isEmpty(), "a model that declares no sizes takes any");
    }

    @Test
    void alternativesMayBePrefixesOfEachOtherOrEmpty() {
        ModelHints h = template("{a|aa}{a|aa}b");
        assertTrue(h.follows("aab") && h.follows("aaab") && h.follows("aaaab"));
        assertFalse(h.follows("ab") || h.follows("aaaaab"));
        assertTrue(template("x{|y}z").follows("xz") && template("x{|y}z").follows("xyz"));
        assertTrue(template("50% {off|on}.*").follows("50% on.*"), "template text is literal, not a pattern");
        assertTrue(template("open { brace").follows("open { brace"));
    }

    @Test
    void aTemplateMadeToBacktrackAnswersAtOnce() {
        ModelHints h = template("{a|aa}".repeat(30) + "b");
        String prompt = "a".repeat(45) + "c";
        assertFalse(h.follows("c"), "a first call loads the classes, so the timing is the matching alone");
        long start = System.nanoTime();
        assertFalse(h.follows(prompt));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms < 100, ms + " ms");
        assertTrue(h.follows("a".repeat(45) + "b"));
    }

    @Test
    void aSharedFolderCannotHandTheUiThreadAHugeFileOrTemplate(@TempDir Path folder) throws Exception {
        String small = "{\"prompt_template\": \"a {red|blue} circle\", \"prompt_hint\": \"try a circle\"}";
        Files.writeString(folder.resolve(ModelHints.FILE), small);
        assertEquals("a {red|blue} circle", ModelHints.read(folder).template(), "a real template is read");

        String longTemplate = "{a|aa}".repeat(ModelHints.MAX_TEMPLATE_CHARS / 6 + 1);
        Files.writeString(folder.resolve(ModelHints.FILE), "{\"prompt_template\": \"" + longTemplate
                + "\", \"prompt_hint\": \"h\"}");
        assertEquals("", ModelHints.read(folder).template(), "a template longer than a sentence gives no hint");

        Files.writeString(folder.resolve(ModelHints.FILE), "{\"examples\": [\"" + "x".repeat(70_000) + "\"]}");
        assertTrue(ModelHints.read(folder).examples().isEmpty(), "a file over 64 KiB is not read");
    }

    @Test
    void aRecommendedGuidanceIsReadWhenItIsANumberTheStudioAccepts(@TempDir Path folder) throws Exception {
        Files.writeString(folder.resolve(ModelHints.FILE), "{\"guidance\": 2.5}");
        assertEquals(2.5, ModelHints.read(folder).guidance().orElseThrow());
        Files.writeString(folder.resolve(ModelHints.FILE), "{\"guidance\": 0}");
        assertEquals(0.0, ModelHints.read(folder).guidance().orElseThrow(), "a turbo model's 0 is a recommendation too");
        for (String bad : new String[] {"\"7\"", "-1", "31", "null", "[2]"}) {
            Files.writeString(folder.resolve(ModelHints.FILE), "{\"guidance\": " + bad + "}");
            assertTrue(ModelHints.read(folder).guidance().isEmpty(), bad + " is not a guidance scale");
        }
        Files.writeString(folder.resolve(ModelHints.FILE), "{\"examples\": []}");
        assertTrue(ModelHints.read(folder).guidance().isEmpty(), "none declared");
    }
}
