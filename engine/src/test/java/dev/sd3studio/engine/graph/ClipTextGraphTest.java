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
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.model.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLIP text encoders built from checkpoint weights give diffusers' numbers for the recorded token ids:
 * the penultimate hidden states (prompt_embeds holds CLIP-L's then CLIP-G's along the channels, fixtures
 * README §2/§5) and the pooled, projected embeddings (pooled_prompt_embeds, CLIP-L's then CLIP-G's). The
 * cases cover F16 and F32 single files with CLIP-L's identity projection and a BF16 diffusers folder with it
 * applied; prompt and negative prompt run as one batch of two rows.
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
        // one batch of two rows, the prompt's and the negative prompt's, as the pipeline runs them
        List<String> rows = List.of("", "negative_");

        int channel = 0;
        for (CheckpointComponent clip : List.of(CheckpointComponent.CLIP_L, CheckpointComponent.CLIP_G)) {
            String idsName = clip == CheckpointComponent.CLIP_L ? "clip_l_input_ids.npy" : "clip_g_input_ids.npy";
            long[] first = Npy.read(dir.resolve(idsName)).toLongs();
            int tokens = first.length;
            long[] ids = new long[rows.size() * tokens];
            for (int r = 0; r < rows.size(); r++) {
                System.arraycopy(Npy.read(dir.resolve(rows.get(r) + idsName)).toLongs(), 0, ids, r * tokens, tokens);
            }
            var settings = ClipTextGraph.Settings.of(checkpoint.configs().require(clip, model).json(), clip.name());
            String penultimate = "hidden_states." + (settings.layers() - 1);
            Map<String, float[]> out = run(ClipTextGraph.build(checkpoint, clip).toByteArray(),
                    checkpoint.require(clip).folder(), ids, rows.size(), Set.of(penultimate, "text_embeds"));
            int width = settings.hidden();
            float[] hidden = out.get(penultimate);
            float[] pooled = out.get("text_embeds");
            assertEquals(rows.size() * tokens * width, hidden.length, name + " " + clip + " hidden length");
            assertEquals(rows.size() * width, pooled.length, name + " " + clip + " pooled length");

            for (int r = 0; r < rows.size(); r++) {
                FloatTensor promptEmbeds = Fixtures.tensor(dir, rows.get(r) + "prompt_embeds");
                FloatTensor pooledEmbeds = Fixtures.tensor(dir, rows.get(r) + "pooled_prompt_embeds");
                float hiddenDiff = 0;
                for (int t = 0; t < tokens; t++) {
                    for (int c = 0; c < width; c++) {
                        float expected = promptEmbeds.data()[(int) (t * promptEmbeds.dim(2)) + channel + c];
                        hiddenDiff = Math.max(hiddenDiff, Math.abs(expected - hidden[(r * tokens + t) * width + c]));
                    }
                }
                float pooledDiff = 0;
                for (int c = 0; c < width; c++) {
                    pooledDiff = Math.max(pooledDiff, Math.abs(pooledEmbeds.data()[channel + c] - pooled[r * width + c]));
                }
                String what = name + " " + clip + " " + (r == 0 ? "prompt" : "negative prompt");
                System.out.printf("%s: penultimate max diff %.3g, pooled max diff %.3g%n", what, hiddenDiff, pooledDiff);
                assertTrue(hiddenDiff <= TOLERANCE, what + ": penultimate hidden states differ by " + hiddenDiff);
                assertTrue(pooledDiff <= TOLERANCE, what + ": pooled embedding differs by " + pooledDiff);
                if (clip == CheckpointComponent.CLIP_G) {
                    assertEquals(channel + width, pooledEmbeds.dim(1), "CLIP-L's and CLIP-G's widths fill the pooled width");
                }
            }
            channel += width;
        }
    }

    @Test
    void anActivationOtherThanCLIPsIsRefusedByName() {
        ObjectNode config = Json.MAPPER.createObjectNode().put("num_hidden_layers", 2).put("num_attention_heads", 2)
                .put("hidden_size", 8).put("hidden_act", "relu");
        EngineException e = assertThrows(EngineException.class, () -> ClipTextGraph.Settings.of(config, "my/config.json"));
        assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, e.kind());
        assertTrue(e.getMessage().contains("my/config.json") && e.getMessage().contains("relu"), e.getMessage());
        config.put("hidden_act", "gelu").put("num_attention_heads", 3);
        assertTrue(assertThrows(EngineException.class, () -> ClipTextGraph.Settings.of(config, "c"))
                .getMessage().contains("3 attention heads"));
    }

    private static Map<String, float[]> run(byte[] model, Path folder, long[] ids, int rows, Set<String> outputs)
            throws Exception {
        OrtEnvironment env = OrtRuntime.environment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.addConfigEntry(FOLDER_OPTION, folder.toString());
            try (OrtSession session = env.createSession(model, options);
                 OnnxTensor input = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {rows, ids.length / rows});
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
