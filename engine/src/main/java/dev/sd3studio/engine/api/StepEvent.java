package dev.sd3studio.engine.api;

import java.time.Duration;

/**
 * One finished denoising step. {@code latents} are the latents after the step and
 * {@code denoised} the model's estimate of the final latents at this step (x0 = x − σ·v); both are
 * copies the listener may keep. Steps count from 1 to {@code total}.
 */
public record StepEvent(int step, int total, float timestep, Duration elapsed,
                        FloatTensor latents, FloatTensor denoised) {
}
