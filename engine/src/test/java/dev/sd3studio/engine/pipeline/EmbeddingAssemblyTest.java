package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.FloatTensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** CLIP side by side, zero-padded to the T5 width, T5 tokens after; pooled side by side. */
class EmbeddingAssemblyTest {
    private static FloatTensor filled(float base, long... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.data().length; i++) {
            t.data()[i] = base + i;
        }
        return t;
    }

    @Test
    void clipTokensArePaddedAndT5Follows() {
        FloatTensor l = filled(100, 2, 3, 2);
        FloatTensor g = filled(200, 2, 3, 1);
        FloatTensor t5 = filled(300, 2, 4, 5);
        FloatTensor e = EmbeddingAssembly.promptEmbeds(l, g, t5);
        assertArrayEquals(new long[] {2, 7, 5}, e.shape());
        // batch 1, token 2: L (2 values), G (1 value), then two zeros
        int row = (1 * 7 + 2) * 5;
        assertArrayEquals(new float[] {110, 111, 205, 0, 0}, java.util.Arrays.copyOfRange(e.data(), row, row + 5));
        // batch 1, first T5 token
        int t5row = (1 * 7 + 3) * 5;
        assertEquals(320, e.data()[t5row]);
    }

    @Test
    void pooledIsConcatenated() {
        FloatTensor p = EmbeddingAssembly.pooled(filled(0, 2, 2), filled(10, 2, 3));
        assertArrayEquals(new float[] {0, 1, 10, 11, 12, 2, 3, 13, 14, 15}, p.data());
    }

    @Test
    void imagesPerPromptRepeatConsecutively() {
        FloatTensor t = filled(0, 2, 1);
        assertArrayEquals(new float[] {0, 0, 1, 1}, t.repeatEachItem(2).data());
    }

    @Test
    void guidanceBatchIsUnconditionalFirst() {
        PromptEmbeddings neg = new PromptEmbeddings(filled(-1, 1, 1, 1), filled(-1, 1, 1));
        PromptEmbeddings pos = new PromptEmbeddings(filled(1, 1, 1, 1), filled(1, 1, 1));
        PromptEmbeddings both = PromptEmbeddings.forGuidance(neg, pos);
        assertArrayEquals(new float[] {-1, 1}, both.promptEmbeds().data());
        FloatTensor v = new FloatTensor(new long[] {2, 1}, new float[] {1f, 3f});
        assertArrayEquals(new float[] {1f + 7f * 2f}, Guidance.combine(v, 7f).data());
    }
}
