package dev.sd3studio.app.gpu;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sd3studio.app.hub.Sizes;
import dev.sd3studio.engine.api.WeightPrecision;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A rough estimate, before a GPU run, of the GPU memory it needs: the weights (the model's file
 * sizes: all parts when sessions stay loaded, the largest part with offload), plus the largest
 * activation (joint attention over image and text tokens for the MMDiT, or the VAE decoder's
 * full-size feature maps), plus about 1 GB for the CUDA context and cuDNN's workspace. Meant to
 * say "this will not fit, try offload / drop T5" before a long run fails halfway, not to be exact.
 */
public record MemoryEstimate(long textEncoders, long t5, long transformer, long vae, long activations) {
    static final long CUDA_OVERHEAD = 1L << 30;
    private static final int TEXT_TOKENS = 77 + 256;
    private static final int ATTENTION_HEADS = 24;

    public static MemoryEstimate of(Path model, Integer width, Integer height, int batch) {
        int[] size = size(model, width, height);
        long tokens = (long) (size[0] / 16) * (size[1] / 16) + TEXT_TOKENS;
        // classifier-free guidance doubles the batch; fp32 scores, as a naive attention export keeps them
        long attention = 2L * batch * ATTENTION_HEADS * tokens * tokens * 4;
        long vaeMaps = 3L * batch * 128 * size[0] * size[1] * 4;
        return new MemoryEstimate(bytes(model, "text_encoder") + bytes(model, "text_encoder_2"), bytes(model, "text_encoder_3"),
                Math.max(bytes(model, "transformer"), bytes(model, "unet")), bytes(model, "vae_decoder"),
                Math.max(attention, vaeMaps));
    }

    /**
     * The estimate with the transformer's and T5's weights quantized: their files counted as fp16 linear
     * weights (an fp32 export shrinks more, so this errs high) turned into blocks of {@code weights}. Their
     * norms, embeddings and final layer stay as stored, a few percent that this leaves out.
     */
    public MemoryEstimate withWeights(WeightPrecision weights) {
        if (weights == null || weights == WeightPrecision.STORED) {
            return this;
        }
        return new MemoryEstimate(textEncoders, weights.estimatedBytes(t5, 2), weights.estimatedBytes(transformer, 2),
                vae, activations);
    }

    /** Bytes needed on the GPU for a run with these settings. */
    public long needed(boolean offload, boolean noT5) {
        long t5Part = noT5 ? 0 : t5;
        long weights = offload ? Math.max(Math.max(textEncoders, t5Part), Math.max(transformer, vae))
                : textEncoders + t5Part + transformer + vae;
        return weights + activations + CUDA_OVERHEAD;
    }

    /** A warning with what to change when the run will not fit in {@code gpuBytes}, or empty. */
    public Optional<String> advice(long gpuBytes, boolean offload, boolean noT5) {
        long need = needed(offload, noT5);
        if (gpuBytes <= 0 || need <= gpuBytes) {
            return Optional.empty();
        }
        String head = "this run needs about " + Sizes.human(need) + " of GPU memory (estimate), the GPU has "
                + Sizes.human(gpuBytes) + ": ";
        if (!offload && needed(true, noT5) <= gpuBytes) {
            return Optional.of(head + "turn on offload (--offload / \"Offload models\"), it then needs about "
                    + Sizes.human(needed(true, noT5)));
        }
        if (!noT5 && needed(true, true) <= gpuBytes) {
            return Optional.of(head + "turn on offload and drop T5 (--offload --no-t5), it then needs about "
                    + Sizes.human(needed(true, true)));
        }
        return Optional.of(head + "even with offload and without T5 it needs about " + Sizes.human(needed(true, true))
                + "; choose a smaller size or run on the CPU");
    }

    private static int[] size(Path model, Integer width, Integer height) {
        int fallback = 1024;
        for (String dir : List.of("transformer", "unet")) {
            Path config = model.resolve(dir).resolve("config.json");
            if (Files.isRegularFile(config)) {
                try {
                    fallback = new ObjectMapper().readTree(config.toFile()).path("sample_size").asInt(128) * 8;
                } catch (IOException ignored) {
                    // keep the SD3 default
                }
                break;
            }
        }
        return new int[] {width != null ? width : fallback, height != null ? height : fallback};
    }

    private static long bytes(Path model, String component) {
        Path dir = model.resolve(component);
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().contains(".onnx") || p.getFileName().toString().endsWith(".data"))
                    .mapToLong(p -> {
                        try {
                            return Files.size(p);
                        } catch (IOException e) {
                            return 0;
                        }
                    }).sum();
        } catch (IOException e) {
            return 0;
        }
    }
}
