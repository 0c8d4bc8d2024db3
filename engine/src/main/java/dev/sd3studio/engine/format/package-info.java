/**
 * Model files read without ONNX Runtime, and the rules that keep those reads inside what the user chose:
 * the one protobuf wire reader ({@link dev.sd3studio.engine.format.ProtoFields}: every length checked
 * against its enclosing message before use) that the signature listing, the LoRA weight map and the fp16
 * graph rewrite share, and where a model's external data may live
 * ({@link dev.sd3studio.engine.format.ExternalDataFile}, ORT's own rule), and the one {@code .safetensors}
 * header reader ({@link dev.sd3studio.engine.format.SafetensorsHeader}) with its element types and exact
 * float decoders that checkpoints and LoRA files share. No ai.onnxruntime here, and nothing that knows the
 * pipeline.
 */
package dev.sd3studio.engine.format;
