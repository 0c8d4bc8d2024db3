/**
 * The engine's public vocabulary: requests, results, progress, cancel and errors. The app uses only this package and the {@code Sd3Engine} factory; nothing here exposes ONNX Runtime types.
 */
package dev.sd3studio.engine.api;
