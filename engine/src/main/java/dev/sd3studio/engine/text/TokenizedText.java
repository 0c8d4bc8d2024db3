package dev.sd3studio.engine.text;

/**
 * One prompt as the encoder sees it: exactly {@code ids.length} ids (padded or truncated), the
 * attention mask the reference computes (1 for real tokens), and how long it was before truncation.
 */
public record TokenizedText(long[] ids, long[] attentionMask, int untruncatedLength) {
    public boolean truncated() {
        return untruncatedLength > ids.length;
    }
}
