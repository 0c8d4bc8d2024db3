package dev.sd3studio.engine.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sd3studio.engine.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The three tokenizers against the reference's ids for all 26 golden prompts (empty, CJK, emoji,
 * `!`-heavy, exactly 77 tokens, 281 tokens...). Where the reference's own slow and fast CLIP
 * tokenizers disagree, either is accepted. The CLIP tokenizers are also built from vocab.json +
 * merges.txt alone, as the Hub's SD3 folders ship them, and must give the same ids.
 */
class TokenizerGoldensTest {
    private static JsonNode goldens;
    private static PromptTokenizer clipL;
    private static PromptTokenizer clipG;
    private static PromptTokenizer t5;

    @BeforeAll
    static void load() throws Exception {
        Path dir = Fixtures.root().resolve("tokenizers");
        goldens = new ObjectMapper().readTree(dir.resolve("goldens.json").toFile());
        clipL = PromptTokenizer.open("CLIP-L", dir.resolve("tokenizer"));
        clipG = PromptTokenizer.open("CLIP-G", dir.resolve("tokenizer_2"));
        t5 = PromptTokenizer.open("T5", dir.resolve("tokenizer_3"));
    }

    @AfterAll
    static void close() {
        clipL.close();
        clipG.close();
        t5.close();
    }

    @Test
    void thereAre26GoldenPrompts() {
        assertEquals(26, goldens.size());
    }

    @Test
    void clipIdsMatchTheReference() {
        List<String> bad = new ArrayList<>();
        for (JsonNode c : goldens) {
            checkClip(c, "clip_l", clipL, bad);
            checkClip(c, "clip_g", clipG, bad);
        }
        assertTrue(bad.isEmpty(), "CLIP mismatches: " + bad);
    }

    @Test
    void t5IdsMatchTheReferenceAt256And512() {
        for (JsonNode c : goldens) {
            for (int length : new int[] {256, 512}) {
                JsonNode ref = c.path("t5_" + length);
                TokenizedText t = t5.tokenize(c.path("prompt").asText(), length);
                assertArrayEquals(longs(ref.path("input_ids")), t.ids(), c.path("id") + " T5 " + length);
                assertArrayEquals(longs(ref.path("attention_mask")), t.attentionMask(), c.path("id") + " mask");
                assertEquals(ref.path("untruncated_length").asInt(), t.untruncatedLength(), c.path("id") + " length");
            }
        }
    }

    @Test
    void padTokensDifferBetweenTheTwoClipTokenizers() {
        assertEquals(49407, clipL.padId(), "CLIP-L pads with its end token");
        assertEquals(0, clipG.padId(), "CLIP-G pads with '!', id 0");
        assertEquals(0, t5.padId(), "T5 pads with <pad>");
        long[] g = clipG.tokenize("wow!!!", 77).ids();
        assertEquals(0, g[2], "'!' is a special token of CLIP-G");
    }

    @Test
    void longPromptsKeepStartAndEndTokens() {
        String prompt = "cat ".repeat(200);
        TokenizedText t = clipL.tokenize(prompt, 77);
        assertEquals(49406, t.ids()[0]);
        assertEquals(49407, t.ids()[76]);
        assertTrue(t.truncated());
        TokenizedText t3 = t5.tokenize(prompt, 77);
        assertEquals(1, t3.ids()[76], "T5 keeps </s> last when truncating");
    }

    @Test
    void clipFromVocabAndMergesGivesTheSameIds(@TempDir Path tmp) throws IOException, Exception {
        Path src = Fixtures.root().resolve("tokenizers");
        for (String name : List.of("tokenizer", "tokenizer_2")) {
            Path dst = Files.createDirectories(tmp.resolve(name));
            try (Stream<Path> files = Files.list(src.resolve(name))) {
                for (Path f : files.filter(f -> !f.getFileName().toString().equals("tokenizer.json")).toList()) {
                    Files.copy(f, dst.resolve(f.getFileName()));
                }
            }
        }
        try (PromptTokenizer l = PromptTokenizer.open("CLIP-L", tmp.resolve("tokenizer"));
             PromptTokenizer g = PromptTokenizer.open("CLIP-G", tmp.resolve("tokenizer_2"))) {
            for (JsonNode c : goldens) {
                String p = c.path("prompt").asText();
                assertArrayEquals(clipL.tokenize(p, 77).ids(), l.tokenize(p, 77).ids(), c.path("id") + " CLIP-L");
                assertArrayEquals(clipG.tokenize(p, 77).ids(), g.tokenize(p, 77).ids(), c.path("id") + " CLIP-G");
            }
        }
    }

    private static void checkClip(JsonNode c, String key, PromptTokenizer tok, List<String> bad) {
        TokenizedText t = tok.tokenize(c.path("prompt").asText(), 77);
        boolean ok = java.util.Arrays.equals(longs(c.path(key).path("input_ids")), t.ids());
        if (!ok && !c.path("clip_slow_fast_agree").asBoolean(true)) {
            ok = java.util.Arrays.equals(longs(c.path(key + "_fast").path("input_ids")), t.ids());
        }
        if (!ok) {
            bad.add(c.path("id").asText() + "/" + key);
        }
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }
}
