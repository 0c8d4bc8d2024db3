/**
 * The engine's public vocabulary: requests, results, progress, cancel and errors. The app uses only this package and the {@code Sd3Engine} front door (app {@code ArchitectureTest}); nothing here exposes ONNX Runtime types. {@link dev.sd3studio.engine.api.AtomicFiles} and {@link dev.sd3studio.engine.api.Npy} are here because the app writes its gallery, settings and {@code .npy} outputs the same crash-safe way.
 */
package dev.sd3studio.engine.api;
