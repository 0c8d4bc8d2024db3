package dev.sd3studio.app.studio.vm;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.Sd3Generator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Token counts per encoder, and where each encoder cuts the prompt (binary search on prefixes). Each
 * encoder's tokenizer runs alone: the search for one encoder's cut never runs the other two.
 */
public final class Tokens {
    private static final Map<String, String> NAMES = Map.of("tokenizer", "CLIP-L", "tokenizer_2", "CLIP-G",
            "tokenizer_3", "T5");

    private Tokens() {
    }

    /** @param texts per tokenizer key, the text that encoder will see */
    public static List<TokenInfo> count(Sd3Generator gen, Map<String, String> texts, int maxSeq, boolean dropT5)
            throws EngineException {
        List<TokenInfo> out = new ArrayList<>();
        for (String key : List.of("tokenizer", "tokenizer_2", "tokenizer_3")) {
            String text = texts.get(key);
            if (key.equals("tokenizer_3") && dropT5) {
                continue;
            }
            Sd3Generator.TokenCount c = gen.tokenize(key, text, maxSeq);
            if (c == null) {
                continue; // no T5 in this model
            }
            int cut = c.truncated() ? cutPoint(gen, text, key, maxSeq, c.limit()) : text.length();
            out.add(new TokenInfo(NAMES.get(key), c.untruncatedLength(), c.limit(), text.substring(0, cut),
                    text.substring(cut)));
        }
        return out;
    }

    /** The longest prefix that still fits: token counts grow with the prefix, so bisect on this encoder only. */
    private static int cutPoint(Sd3Generator gen, String text, String key, int maxSeq, int limit) throws EngineException {
        int lo = 0;
        int hi = text.length();
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (gen.tokenize(key, text.substring(0, mid), maxSeq).untruncatedLength() <= limit) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }
}
