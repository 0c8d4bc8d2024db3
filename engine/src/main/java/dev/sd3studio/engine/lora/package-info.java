/**
 * LoRA files merged into ONNX models: a {@code .safetensors} reader over the checked header and exact
 * decoders that checkpoints use too ({@link dev.sd3studio.engine.format}; no pickles, nothing executed), key
 * formats (diffusers/peft, SD3 original / kohya), the map from module paths to the ONNX weights they change,
 * the match report, and the merged weights handed to ONNX Runtime at session creation.
 * No ai.onnxruntime here: the runtime package turns the merged weights into session initializers.
 */
package dev.sd3studio.engine.lora;
