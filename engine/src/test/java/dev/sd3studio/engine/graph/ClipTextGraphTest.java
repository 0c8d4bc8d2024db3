package dev.sd3studio.engine.graph;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.Npy;
import dev.sd3studio.engine.checkpoint.Checkpoint;
import dev.sd3studio.engine.checkpoint.CheckpointComponent;
import dev.sd3studio.engine.checkpoint.CheckpointOpener;
import dev.sd3studio.engine.checkpoint.CheckpointOptions;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLIP text encoders built from checkpoint weights give diffusers' numbers for the recorded token ids:
 * the penultimate hidden states (prompt_embeds holds CLIP-L's then CLIP-G's along the channels, fixtures
 * README §2/§5) and the pooled, projected embeddings (pooled_prompt_embeds, CLIP-L's then CLIP-G's). The
 * cases cover F16 and F32 single files with CLIP-L's identity projection and a BF16 diffusers folder with it applied.
 */
class ClipTextGraphTest {
    private static final String FOLDER_OPTION = "session.model_external_initializers_file_folder_path";
    private static final float TOLERANCE = 1e-4f;

    @ParameterizedTest
    @ValueSource(strings = {"ckpt_sd3_comfy_fp16", "ckpt_sd35_sai_fp32", "ckpt_sd3_diffusers_bf16", "ckpt_sd35_comfy_fp8_t5"})
    void penultimateHiddenStatesAndPooledEmbeddingsMatchDiffusers(String name) throws Exception {
        Path dir = Fixtures.root().resolve("goldens-checkpoints").resolve(name);
        Path model = Fixtures.root().resolve(Fixtures.caseJson(dir).path("model_path").asText());
        Checkpoint checkpoint = CheckpointOpener.open(model, CheckpointOptions.NONE);
        FloatTensor promptEmbeds = Fixtures.tensor(dir, "prompt_embeds");
        FloatTensor pooledEmbeds = Fixtures.tensor(dir, "pooled_prompt_embeds");

        int channel = 0;
        for (CheckpointComponent clip : new CheckpointComponent[] {CheckpointComponent.CLIP_L, CheckpointComponent.CLIP_G}) {
            String idsFile = clip == CheckpointComponent.CLIP_L ? "clip_l_input_ids.npy" : "clip_g_input_ids.npy";
            long[] ids = Npy.read(dir.resolve(idsFile)).toLongs();
            var settings = ClipTextGraph.Settings.of(
                    checkpoint.configs().require(clip, model).json(), clip.name());
            String penultimate = "hidden_states." + (settings.layers() - 1);
            Map<String, float[]> out = run(ClipTextGraph.build(checkpoint, clip).toByteArray(),
                    checkpoint.require(clip).folder(), ids, Set.of(penultimate, "text_embeds"));
            int width = settings.hidden();
            int tokens = ids.length;

            float[] hidden = out.get(penultimate);
            assertTrue(hidden.length == tokens * width, name + " " + clip + " hidden length " + hidden.length);
            float hiddenDiff = 0;
            for (int t = 0; t < tokens; t++) {
                for (int c = 0; c < width; c++) {
                    float expected = promptEmbeds.data()[(int) (t * promptEmbeds.dim(2)) + channel + c];
                    hiddenDiff = Math.max(hiddenDiff, Math.abs(expected - hidden[t * width + c]));
                }
            }
            float[] pooled = out.get("text_embeds");
            float pooledDiff = 0;
            for (int c = 0; c < pooled.length; c++) {
                pooledDiff = Math.max(pooledDiff, Math.abs(pooledEmbeds.data()[channel + c] - pooled[c]));
            }
            System.out.printf("%s %s: penultimate max diff %.3g, pooled max diff %.3g%n", name, clip, hiddenDiff, pooledDiff);
            assertTrue(hiddenDiff <= TOLERANCE, name + " " + clip + " penultimate hidden states differ by " + hiddenDiff);
            assertTrue(pooledDiff <= TOLERANCE, name + " " + clip + " pooled embedding differs by " + pooledDiff);
            channel += width;
        }
        assertTrue(channel == pooledEmbeds.dim(1), "CLIP-L and CLIP-G widths add up to the pooled width");
    }

    private static Map<String, float[]> run(byte[] model, Path folder, long[] ids, Set<String> outputs) throws Exception {
        OrtEnvironment env = OrtRuntime.environment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.addConfigEntry(FOLDER_OPTION, folder.toString());
            try (OrtSession session = env.createSession(model, options);
                 OnnxTensor input = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {1, ids.length});
                 OrtSession.Result result = session.run(Map.of("input_ids", input), outputs)) {
                Map<String, float[]> out = new java.util.HashMap<>();
                for (String name : outputs) {
                    FloatBuffer b = ((OnnxTensor) result.get(name).orElseThrow()).getFloatBuffer();
                    float[] values = new float[b.remaining()];
                    b.get(values);
                    out.put(name, values);
                }
                return out;
            }
        }
    }
}
