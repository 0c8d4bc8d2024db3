/**
 * {@code .safetensors} checkpoints opened as they are downloaded (issue 20), their headers read and checked
 * by {@link dev.sd3studio.engine.format.SafetensorsHeader}: format detection (Stability AI single file, text
 * encoder files beside it, diffusers folder), family detection with built-in configs and config folders
 * overriding them, named refusals of everything else, and per component a map from weight names to byte
 * ranges of the user's files. Only headers and configs are read here; no ai.onnxruntime.
 */
package dev.sd3studio.engine.checkpoint;
