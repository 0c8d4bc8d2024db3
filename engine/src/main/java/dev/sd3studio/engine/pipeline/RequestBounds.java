package dev.sd3studio.engine.pipeline;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.GenerationRequest;

/**
 * Upper bounds of a request, so an absurd number is a named request error instead of an hours-long
 * run, an integer overflow deep in the pipeline or a nonsense hint.
 */
final class RequestBounds {
    /** The schedule has 1000 training timesteps; more steps cannot add anything. */
    static final int MAX_STEPS = 1000;
    static final int MAX_IMAGES_PER_PROMPT = 64;
    /** Images in one run: every one is in memory at once. */
    static final int MAX_BATCH = 256;

    private RequestBounds() {
    }

    static void check(GenerationRequest r) throws EngineException {
        if (r.steps() > MAX_STEPS) {
            throw EngineException.invalid("steps must be at most " + MAX_STEPS + " (got " + r.steps()
                    + "); 28 is the usual, 50 the most that usually helps.");
        }
        if (r.imagesPerPrompt() > MAX_IMAGES_PER_PROMPT) {
            throw EngineException.invalid("images per prompt must be at most " + MAX_IMAGES_PER_PROMPT + " (got "
                    + r.imagesPerPrompt() + "); run several times for more.");
        }
        long batch = (long) r.prompts().size() * r.imagesPerPrompt();
        if (batch > MAX_BATCH) {
            throw EngineException.invalid(r.prompts().size() + " prompts × " + r.imagesPerPrompt() + " images make "
                    + batch + " images in one run, more than " + MAX_BATCH + "; split them into several runs.");
        }
    }

    /** Width or height: a multiple of {@code multiple} from one multiple up to {@code max} (0: unknown). */
    static void checkSize(String what, int value, int multiple, int max) throws EngineException {
        if (max > 0 && value > max) {
            // Name the multiple too, so one correction fixes both problems.
            throw EngineException.invalid(what + " " + value + " is larger than this model supports (at most "
                    + max + " pixels); choose a multiple of " + multiple + " up to " + max + ".");
        }
        if (value < multiple) {
            throw EngineException.invalid(what + " " + value + " is not a multiple of " + multiple + "; " + multiple
                    + " is the smallest that works.");
        }
        if (value % multiple != 0) {
            int lower = value / multiple * multiple;
            long upper = (long) lower + multiple;
            boolean upperFits = (max <= 0 || upper <= max) && upper <= Integer.MAX_VALUE;
            throw EngineException.invalid(what + " " + value + " is not a multiple of " + multiple + "; " + lower
                    + (upperFits ? " or " + upper + " would work." : " would work."));
        }
    }
}
