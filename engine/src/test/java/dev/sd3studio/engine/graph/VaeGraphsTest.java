package dev.sd3studio.engine.graph;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.checkpoint.Checkpoint;
import dev.sd3studio.engine.checkpoint.CheckpointComponent;
import dev.sd3studio.engine.checkpoint.CheckpointOpener;
import dev.sd3studio.engine.checkpoint.CheckpointOptions;
import dev.sd3studio.engine.checkpoint.ComponentWeights;
import dev.sd3studio.engine.checkpoint.WeightRef;
import dev.sd3studio.engine.model.Json;
import dev.sd3studio.engine.onnx.ModelProto;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The VAE decoder and encoder built from checkpoint weights give the Optimum exports' numbers on the same
 * seeded inputs (batch 2, non-square): the F32 single file (LDM names, up blocks counted the other way) against
 * {@code models/tiny-sd35}, the F32 diffusers folder against {@code models/tiny-sd3}, whose weights they hold
 * bit for bit. The F16 single file and the BF16 diffusers folder hold tiny-sd3's weights rounded; their bound
 * is explained at {@link #REDUCED_TOLERANCE}.
 */
class VaeGraphsTest {
    private static final String FOLDER_OPTION = "session.model_external_initializers_file_folder_path";
    private static final float TOLERANCE = 1e-4f;
    /**
     * Weights rounded to F16 or BF16 (unit roundoff u = 2⁻¹¹ or 2⁻⁸) move each layer's output by about u of its
     * size; through the ~30 convs and GroupNorms of these VAEs the measured effect is 3u (F16: 4.8e-3 of 3.37,
     * BF16: 4.8e-2) for the decoder and 2.5u for the encoder. The bound is 10u of the output's largest magnitude:
     * room for rounding, while a wrong block order, a missed shortcut or a misplaced pad (O(1) changes; the pad
     * one measured 1.8) fails. The F32 cases carry the exact check.
     */
    private static final Map<String, Float> REDUCED_TOLERANCE = Map.of("F16", 10 * 0x1p-11f, "BF16", 10 * 0x1p-8f);
    private static final int BATCH = 2;
    private static final int LATENT_H = 8;
    private static final int LATENT_W = 12;

    @ParameterizedTest
    @CsvSource({
            "checkpoints/tiny-sd35-sai-fp32/tiny-sd35.safetensors, tiny-sd35, ORIGINAL, F32",
            "checkpoints/tiny-sd3-diffusers-fp32, tiny-sd3, DIFFUSERS, F32",
            "checkpoints/tiny-sd3-comfy-fp16/tiny-sd3.safetensors, tiny-sd3, ORIGINAL, F16",
            "checkpoints/tiny-sd3-diffusers-bf16, tiny-sd3, DIFFUSERS, BF16"})
    void decoderAndEncoderMatchTheExports(String file, String export, String naming, String dtype) throws Exception {
        Checkpoint checkpoint = CheckpointOpener.open(Fixtures.root().resolve(file), CheckpointOptions.NONE);
        ComponentWeights vae = checkpoint.require(CheckpointComponent.VAE);
        assertEquals(naming, vae.naming().name(), file + " naming");
        assertEquals(dtype, vae.require("decoder.conv_in.weight").dtype().name(), file + " stored type");
        assertTrue(!vae.has("quant_conv.weight") && !vae.has("post_quant_conv.weight"), "SD3's VAE has no quant convs");
        int channels = VaeGraphs.Settings.of(checkpoint.configs().require(CheckpointComponent.VAE, checkpoint.source())
                .json(), file).latentChannels();
        Random random = new Random(20);
        float[] latents = new float[BATCH * channels * LATENT_H * LATENT_W];
        for (int i = 0; i < latents.length; i++) {
            latents[i] = (float) random.nextGaussian();
        }
        float[] image = new float[BATCH * 3 * LATENT_H * 8 * LATENT_W * 8];
        for (int i = 0; i < image.length; i++) {
            image[i] = random.nextFloat() * 2 - 1;
        }
        long[] latentShape = {BATCH, channels, LATENT_H, LATENT_W};
        long[] imageShape = {BATCH, 3, LATENT_H * 8, LATENT_W * 8};
        Path models = Fixtures.root().resolve("models").resolve(export);

        Ran decoded = run(VaeGraphs.decoder(checkpoint), vae.folder(), "latent_sample", latents, latentShape, "sample");
        Ran decodedByExport = run(models.resolve("vae_decoder/model.onnx"), "latent_sample", latents, latentShape, "sample");
        assertEquals(decodedByExport.signature(), decoded.signature(), "the decoder's inputs and outputs are the export's");
        assertEquals("latent_sample[-1, " + channels + ", -1, -1] sample[-1, 3, -1, -1] ", decoded.signature(),
                "batch, height and width are dynamic");
        compare(file + " decoder", decodedByExport.values(), decoded.values(), dtype);

        Ran encoded = run(VaeGraphs.encoder(checkpoint), vae.folder(), "sample", image, imageShape, "latent_parameters");
        Ran encodedByExport = run(models.resolve("vae_encoder/model.onnx"), "sample", image, imageShape, "latent_parameters");
        assertEquals(encodedByExport.signature(), encoded.signature(), "the encoder's inputs and outputs are the export's");
        assertEquals(BATCH * 2 * channels * LATENT_H * LATENT_W, encodedByExport.values().length, "mean and log-variance");
        compare(file + " encoder", encodedByExport.values(), encoded.values(), dtype);
    }

    @Test
    void groupsThatDoNotDivideTheChannelsAreRefusedByName() {
        ObjectNode config = Json.MAPPER.createObjectNode().put("norm_num_groups", 3).put("latent_channels", 16)
                .put("layers_per_block", 1);
        config.putArray("block_out_channels").add(8).add(16);
        EngineException e = assertThrows(EngineException.class, () -> VaeGraphs.Settings.of(config, "my/vae/config.json"));
        assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, e.kind());
        assertTrue(e.getMessage().contains("my/vae/config.json") && e.getMessage().contains("norm_num_groups 3"),
                e.getMessage());
        config.put("norm_num_groups", 4).put("act_fn", "relu");
        assertTrue(assertThrows(EngineException.class, () -> VaeGraphs.Settings.of(config, "c")).getMessage()
                .contains("'relu'"));
    }

    @Test
    void aMissingUpBlockOrAConfigWithFewerBlocksIsRefusedByName() throws Exception {
        Checkpoint checkpoint = CheckpointOpener.open(Fixtures.root().resolve(
                "checkpoints/tiny-sd35-sai-fp32/tiny-sd35.safetensors"), CheckpointOptions.NONE);
        ComponentWeights vae = checkpoint.require(CheckpointComponent.VAE);
        var json = (ObjectNode) checkpoint.configs().require(CheckpointComponent.VAE, checkpoint.source()).json().deepCopy();
        VaeGraphs.Settings settings = VaeGraphs.Settings.of(json, "config.json");

        Map<String, WeightRef> withoutBlock = new HashMap<>(vae.weights());
        withoutBlock.remove("decoder.up.2.upsample.conv.weight");
        ComponentWeights incomplete = new ComponentWeights(vae.component(), vae.naming(), vae.folder(), withoutBlock);
        EngineException missing = assertThrows(EngineException.class, () -> VaeGraphs.decoder(incomplete, settings));
        assertEquals(EngineException.Kind.CORRUPT_FILE, missing.kind());
        assertTrue(missing.getMessage().contains("'decoder.up.2.upsample.conv.weight'"), missing.getMessage());

        json.putArray("block_out_channels").add(8).add(16).add(16);
        VaeGraphs.Settings fewer = VaeGraphs.Settings.of(json, "config.json");
        EngineException more = assertThrows(EngineException.class, () -> VaeGraphs.encoder(vae, fewer));
        assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, more.kind());
        assertTrue(more.getMessage().contains("'encoder.down.3.block.0'"), more.getMessage());
        // the decoder's widest block comes first: a narrower config meets a stored shape it does not expect
        json.putArray("block_out_channels").add(8).add(16).add(16).add(32);
        VaeGraphs.Settings wider = VaeGraphs.Settings.of(json, "config.json");
        EngineException shape = assertThrows(EngineException.class, () -> VaeGraphs.decoder(vae, wider));
        assertTrue(shape.getMessage().contains("'decoder.conv_in.weight'"), shape.getMessage());
    }

    private static void compare(String what, float[] expected, float[] actual, String dtype) {
        assertEquals(expected.length, actual.length, what + " length");
        float diff = 0;
        float largest = 0;
        for (int i = 0; i < expected.length; i++) {
            diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
            largest = Math.max(largest, Math.abs(expected[i]));
        }
        float bound = dtype.equals("F32") ? TOLERANCE : REDUCED_TOLERANCE.get(dtype) * largest;
        System.out.printf("%s (%s): max abs diff %.2e, bound %.3g, largest output %.3g%n", what, dtype, diff, bound, largest);
        assertTrue(diff <= bound, what + " differs from the export by " + diff + " (bound " + bound + ")");
    }

    /** A run's output, and the session's input and output names with their shapes (-1 where dynamic). */
    private record Ran(float[] values, String signature) {
    }

    private static Ran run(ModelProto model, Path folder, String input, float[] values, long[] shape, String output)
            throws Exception {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.addConfigEntry(FOLDER_OPTION, folder.toString());
            try (OrtSession session = OrtRuntime.environment().createSession(model.toByteArray(), options)) {
                return run(session, input, values, shape, output);
            }
        }
    }

    private static Ran run(Path model, String input, float[] values, long[] shape, String output) throws Exception {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             OrtSession session = OrtRuntime.environment().createSession(model.toString(), options)) {
            return run(session, input, values, shape, output);
        }
    }

    private static Ran run(OrtSession session, String input, float[] values, long[] shape, String output)
            throws Exception {
        OrtEnvironment env = OrtRuntime.environment();
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape);
             OrtSession.Result result = session.run(Map.of(input, tensor))) {
            OnnxTensor out = (OnnxTensor) result.get(output).orElseThrow();
            long[] outShape = out.getInfo().getShape();
            assertEquals(shape[0], outShape[0], "batch");
            FloatBuffer b = out.getFloatBuffer();
            float[] data = new float[b.remaining()];
            b.get(data);
            StringBuilder signature = new StringBuilder();
            for (var info : List.of(session.getInputInfo(), session.getOutputInfo())) {
                info.forEach((name, node) -> signature.append(name).append(Arrays.toString(
                        ((TensorInfo) node.getInfo()).getShape())).append(' '));
            }
            return new Ran(data, signature.toString());
        }
    }
}
