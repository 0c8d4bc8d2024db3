/**
 * ONNX graphs built by the engine itself, their weights external references into checkpoint files
 * (location, offset, length), written with the message classes generated from {@code src/main/proto}.
 * No ai.onnxruntime: the runtime package opens what is built here.
 */
package dev.sd3studio.engine.graph;
