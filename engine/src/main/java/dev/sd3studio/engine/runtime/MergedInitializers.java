package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.sd3studio.engine.lora.MergedWeights;
import dev.sd3studio.engine.lora.OnnxWeights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LoRA-merged weights handed to a session as initializers supplied by the caller: ONNX Runtime uses
 * them instead of the model's own tensors of the same names, so the model file is never rewritten and,
 * with external data, the replaced tensors are not even read (external ones go through
 * {@code addExternalInitializers}, inline ones through {@code addInitializer}). The tensors wrap the merged native
 * buffers without copying, so both live until the session is closed; {@link #close()} frees them then.
 */
final class MergedInitializers implements AutoCloseable {
    private final MergedWeights weights;
    private final List<OnnxTensor> tensors;

    private MergedInitializers(MergedWeights weights, List<OnnxTensor> tensors) {
        this.weights = weights;
        this.tensors = tensors;
    }

    /** Wraps the weights and adds them to {@code options}; takes ownership of {@code weights}. */
    static MergedInitializers addTo(OrtSession.SessionOptions options, MergedWeights weights) throws OrtException {
        return addTo(options, weights, name -> false);
    }

    /** As {@link #addTo(OrtSession.SessionOptions, MergedWeights)}, leaving out the weights {@code skip} names. */
    static MergedInitializers addTo(OrtSession.SessionOptions options, MergedWeights weights,
                                    java.util.function.Predicate<String> skip) throws OrtException {
        List<OnnxTensor> tensors = new ArrayList<>();
        try {
            Map<String, OnnxTensorLike> external = new LinkedHashMap<>();
            for (MergedWeights.Weight w : weights.weights()) {
                if (skip.test(w.name())) {
                    continue; // quantized: the graph no longer has it
                }
                OnnxTensor t = OnnxTensor.createTensor(OrtRuntime.environment(), w.data(), w.dims(), javaType(w));
                tensors.add(t);
                if (w.external()) {
                    external.put(w.name(), t);
                } else {
                    // ORT refuses to swap an inline tensor for "external" data; a shared initializer overrides it.
                    options.addInitializer(w.name(), t);
                }
            }
            if (!external.isEmpty()) {
                options.addExternalInitializers(external);
            }
            return new MergedInitializers(weights, tensors);
        } catch (OrtException | RuntimeException e) {
            tensors.forEach(OnnxTensor::close);
            weights.close();
            throw e;
        }
    }

    private static OnnxJavaType javaType(MergedWeights.Weight w) {
        return switch (w.dataType()) {
            case OnnxWeights.FLOAT -> OnnxJavaType.FLOAT;
            case OnnxWeights.FLOAT16 -> OnnxJavaType.FLOAT16;
            case OnnxWeights.BFLOAT16 -> OnnxJavaType.BFLOAT16;
            default -> throw new IllegalArgumentException("merged weight " + w.name() + " of ONNX type " + w.dataType());
        };
    }

    @Override
    public void close() {
        tensors.forEach(OnnxTensor::close);
        weights.close();
    }
}
