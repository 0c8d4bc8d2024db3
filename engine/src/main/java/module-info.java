/**
 * The SD3 pipeline on ONNX Runtime. Only the entry point ({@code Sd3Engine}) and the contract the app
 * programs against ({@code api}) are exported: sessions, graph rewrites, readers of untrusted files and
 * the LoRA merge stay inside, so nothing outside can reach a native handle without a lease.
 */
module dev.sd3studio.engine {
    requires com.microsoft.onnxruntime;
    requires ai.djl.tokenizers;
    requires com.fasterxml.jackson.databind;
    requires java.desktop;
    requires com.google.protobuf;

    exports dev.sd3studio.engine;
    exports dev.sd3studio.engine.api;
}
