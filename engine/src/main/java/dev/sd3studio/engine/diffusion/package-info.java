/**
 * The denoising side: the flow-matching Euler schedule, the MMDiT session, and torch-compatible seeded noise (sd3-pipeline.md §3–4).
 */
package dev.sd3studio.engine.diffusion;
