/**
 * The SD3 pipeline itself, stage by stage as the reference (validate, encodePrompt, prepareLatents, schedule, denoise, decode), with component lifetimes per memory mode.
 */
package dev.sd3studio.engine.pipeline;
