/**
 * ONNX Runtime plumbing: the session factory with device choice and CPU fall-back, one session wrapper binding inputs and outputs by name, and error translation. The only package that touches ai.onnxruntime besides the check-model report.
 */
package dev.sd3studio.engine.runtime;
