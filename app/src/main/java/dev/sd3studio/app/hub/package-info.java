/**
 * Getting a model from the Hugging Face Hub: its public HTTP API (tree listing, resolve with
 * redirects and ranges, tokens as huggingface_hub finds them), the choice of the files the engine
 * loads, and a resumable, verified download into a folder that appears only when complete.
 * No ONNX code here.
 */
package dev.sd3studio.app.hub;
