/**
 * {@code .safetensors} checkpoints opened as they are downloaded (issue 20): a checked header reader, exact
 * decoders for the stored float types, format detection (Stability AI single file, text encoder files beside
 * it, diffusers folder), family detection with built-in configs and config folders overriding them, named
 * refusals of everything else, and per component a map from weight names to byte ranges of the user's files.
 * Only headers and configs are read here; no ai.onnxruntime.
 */
package dev.sd3studio.engine.checkpoint;
