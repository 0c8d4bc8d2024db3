/**
 * Step previews from the denoised estimate: a TAESD3 decoder when one is present, a linear latent projection otherwise; rendered off the denoising thread.
 */
package dev.sd3studio.engine.preview;
