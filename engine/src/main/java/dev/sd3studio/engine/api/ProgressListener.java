package dev.sd3studio.engine.api;

/**
 * Receives progress from the engine on the generating thread; implementations must return
 * quickly and hand anything slow (UI updates, decoding) to another thread.
 */
public interface ProgressListener {
    ProgressListener NONE = new ProgressListener() {
    };

    /** A stage started: "load text_encoder", "encode prompt", "denoise", "decode"... */
    default void stage(String name) {
    }

    default void step(StepEvent event) {
    }

    /** A preview image of the denoised estimate, NHWC in [0, 1], for the given step. */
    default void preview(int step, FloatTensor image) {
    }

    /** Something the user should know that does not stop the run (truncated prompt, fallbacks). */
    default void warning(String message) {
    }

    /** An intermediate tensor by its reference name ("prompt_embeds", "latents_step1"...), for dumps. */
    default void tensor(String name, FloatTensor value) {
    }

    /** Token ids by their reference name ("clip_l_input_ids"...), for dumps. */
    default void ids(String name, long[][] ids) {
    }
}
