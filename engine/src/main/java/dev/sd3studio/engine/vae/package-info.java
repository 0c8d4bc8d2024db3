/**
 * The VAE encoder and decoder sessions and the picture/tensor conversions around them (sd3-pipeline.md §5–6).
 */
package dev.sd3studio.engine.vae;
