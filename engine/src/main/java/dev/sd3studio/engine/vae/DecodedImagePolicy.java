package dev.sd3studio.engine.vae;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;

/**
 * What counts as a picture, decided once for the command line and the studio alike, on the raw
 * decoder output before clamping: a value that is NaN or ±inf is an overflow (clamping would turn
 * +inf into white and −inf into black), and an image whose every value clamps to the same level
 * (constant −1: all black) is a broken decoder, not a result. No real decoder output is exactly
 * uniform over every pixel and channel.
 */
public final class DecodedImagePolicy {
    private DecodedImagePolicy() {
    }

    /** @param decoded one image, NCHW, straight from the decoder; {@code index} names it in the message */
    public static void check(FloatTensor decoded, int index) throws EngineException {
        float[] v = decoded.data();
        int bad = decoded.firstNonFinite();
        if (bad >= 0) {
            throw new EngineException(EngineException.Kind.NUMERIC_OVERFLOW, "the decoded image" + label(index)
                    + " contains " + (Float.isNaN(v[bad]) ? "NaN" : "infinite") + " values (the VAE decoder"
                    + " overflowed; use an fp32 VAE export).");
        }
        if (v.length == 0) {
            throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL, "the VAE decoder returned no pixels.");
        }
        float first = clamped(v[0]);
        for (float x : v) {
            if (clamped(x) != first) {
                return;
            }
        }
        String level = first == 0f ? "black" : first == 1f ? "white" : "one grey level (" + first + ")";
        throw new EngineException(EngineException.Kind.NUMERIC_OVERFLOW, "the VAE decoder returned a blank picture"
                + label(index) + " (every pixel " + level + "); the decoder export or its input latents are"
                + " broken, so re-export or download the VAE decoder again.");
    }

    /** The same mapping as {@link ImageTensors#toImages}: x/2 + 0.5 clamped to [0, 1]. */
    private static float clamped(float x) {
        return Math.min(1f, Math.max(0f, x / 2f + 0.5f));
    }

    private static String label(int index) {
        return index < 0 ? "" : " " + (index + 1);
    }
}
