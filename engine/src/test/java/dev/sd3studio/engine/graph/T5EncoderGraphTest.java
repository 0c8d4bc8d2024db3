package dev.sd3studio.engine.graph;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.api.Npy;
import dev.sd3studio.engine.checkpoint.Checkpoint;
import dev.sd3studio.engine.checkpoint.CheckpointComponent;
import dev.sd3studio.engine.checkpoint.CheckpointOpener;
import dev.sd3studio.engine.checkpoint.CheckpointOptions;
import dev.sd3studio.engine.model.Json;
import dev.sd3studio.engine.runtime.OrtRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The T5 encoder built from checkpoint weights gives the numbers of the exported text_encoder_3 (same weights,
 * bit for bit, in the fp32 diffusers folder) for padded prompts of several lengths, and diffusers' T5 hidden
 * states (the last 256 rows of prompt_embeds, fixtures README on goldens-checkpoints) for the four checkpoint
 * goldens: F32 with only the tied shared.weight, F16, BF16 and F8_E4M3. Those references were computed by torch
 * in float32 from the very values stored in each file, which is what the graph computes after its Casts, so the
 * narrow types get the same float32-rounding tolerance as F32 rather than one derived from their precision.
 */
class T5EncoderGraphTest {
    private static final String FOLDER_OPTION = "session.model_external_initializers_file_folder_path";
    private static final float TOLERANCE = 1e-4f;
    private static final int CLIP_TOKENS = 77;

    @Test
    void matchesTheExportedEncoderOnTheSameWeightsForPaddedPromptsOfSeveralLengths() throws Exception {
        Checkpoint checkpoint = CheckpointOpener.open(
                Fixtures.root().resolve("checkpoints/tiny-sd3-diffusers-fp32"), CheckpointOptions.NONE);
        byte[] built = T5EncoderGraph.build(checkpoint).toByteArray();
        Path folder = checkpoint.require(CheckpointComponent.T5).folder();
        byte[] exported = Files.readAllBytes(
                Fixtures.model("tiny-sd3").resolve("text_encoder_3/model.onnx"));
        Random random = new Random(20);
        // 300 tokens: distances beyond 2·max_distance, where the bucket table's clamp does the work
        for (int tokens : new int[] {77, 256, 300}) {
            long[] ids = new long[2 * tokens];
            for (int r = 0; r < 2; r++) {
                int words = r == 0 ? 12 : tokens - 1; // a short prompt padded with 0, and one that fills the row
                for (int t = 0; t < words; t++) {
                    ids[r * tokens + t] = 2 + random.nextInt(32000);
                }
                ids[r * tokens + words] = 1; // EOS, then padding id 0
            }
            float[] ours = run(built, folder, ids, 2);
            float[] theirs = run(exported, Fixtures.model("tiny-sd3").resolve("text_encoder_3"), ids, 2);
            assertEquals(theirs.length, ours.length, tokens + " tokens: output length");
            float diff = maxDiff(theirs, 0, ours, 0, ours.length);
            System.out.printf("T5 built vs exported, 2 × %d tokens: max abs diff %.3g%n", tokens, diff);
            assertTrue(diff <= TOLERANCE, tokens + " tokens: the built T5 differs from the exported one by " + diff);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ckpt_sd3_comfy_fp16", "ckpt_sd35_sai_fp32", "ckpt_sd3_diffusers_bf16", "ckpt_sd35_comfy_fp8_t5"})
    void lastHiddenStatesMatchDiffusersForEveryStoredType(String name) throws Exception {
        Path dir = Fixtures.root().resolve("goldens-checkpoints").resolve(name);
        Path model = Fixtures.root().resolve(Fixtures.caseJson(dir).path("model_path").asText());
        Checkpoint checkpoint = CheckpointOpener.open(model, CheckpointOptions.NONE);
        // prompt and negative prompt as one batch of two rows, as the pipeline runs them
        String[] rows = {"", "negative_"};
        long[] first = Npy.read(dir.resolve("t5_input_ids.npy")).toLongs();
        int tokens = first.length;
        long[] ids = new long[rows.length * tokens];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(Npy.read(dir.resolve(rows[r] + "t5_input_ids.npy")).toLongs(), 0, ids, r * tokens, tokens);
        }
        float[] hidden = run(T5EncoderGraph.build(checkpoint).toByteArray(),
                checkpoint.require(CheckpointComponent.T5).folder(), ids, rows.length);
        for (int r = 0; r < rows.length; r++) {
            FloatTensor embeds = Fixtures.tensor(dir, rows[r] + "prompt_embeds");
            int width = (int) embeds.dim(2);
            assertEquals(CLIP_TOKENS + tokens, embeds.dim(1), name + ": CLIP's 77 rows, then T5's");
            assertEquals(rows.length * tokens * width, hidden.length, name + ": output length");
            float diff = maxDiff(embeds.data(), CLIP_TOKENS * width, hidden, r * tokens * width, tokens * width);
            String what = name + " " + (r == 0 ? "prompt" : "negative prompt");
            System.out.printf("%s: T5 last hidden state max abs diff %.3g%n", what, diff);
            assertTrue(diff <= TOLERANCE, what + ": T5 hidden states differ from diffusers' by " + diff);
        }
    }

    @Test
    void aConfigOfAnotherModelIsRefusedByName() throws Exception {
        Checkpoint checkpoint = CheckpointOpener.open(
                Fixtures.root().resolve("checkpoints/tiny-sd3-diffusers-fp32"), CheckpointOptions.NONE);
        ObjectNode config = ((ObjectNode) checkpoint.configs().require(CheckpointComponent.T5, checkpoint.source())
                .json()).deepCopy();
        var weights = checkpoint.require(CheckpointComponent.T5);

        config.put("d_model", 64);
        EngineException wide = assertThrows(EngineException.class,
                () -> T5EncoderGraph.build(weights, T5EncoderGraph.Settings.of(config, "my/config.json")));
        assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, wide.kind());
        assertTrue(wide.getMessage().contains("token embeddings") && wide.getMessage().contains("another model"),
                wide.getMessage());

        config.put("d_model", 32).put("num_heads", 8); // the stored bias table has columns for 4 heads
        EngineException heads = assertThrows(EngineException.class,
                () -> T5EncoderGraph.build(weights, T5EncoderGraph.Settings.of(config, "my/config.json")));
        assertTrue(heads.getMessage().contains("relative attention bias"), heads.getMessage());

        config.put("num_heads", 4).put("feed_forward_proj", "relu"); // T5 v1.0
        EngineException relu = assertThrows(EngineException.class, () -> T5EncoderGraph.Settings.of(config, "my/config.json"));
        assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, relu.kind());
        assertTrue(relu.getMessage().contains("my/config.json") && relu.getMessage().contains("'relu'"), relu.getMessage());
    }

    @Test
    void bucketsFollowTransformersBidirectionalRule() {
        // T5-XXL's (and the tiny model's) settings: 32 buckets, 16 per direction, 8 exact, log-spaced to 128
        var s = new T5EncoderGraph.Settings(2, 4, 32, 8, 48, 32, 128, 1e-6f);
        long[] table = T5EncoderGraph.bucketTable(s);
        int reach = 128;
        assertEquals(2 * reach + 1, table.length);
        assertEquals(0, table[reach], "the query itself");
        assertEquals(7, table[reach - 7], "7 back: exact");
        assertEquals(16 + 7, table[reach + 7], "7 ahead: exact, in the upper half");
        // log-spaced: 8 + ⌊log(n/8)/log(16)·8⌋, so 16 → 10, 32 → 12, 64 → 14; 128 and beyond → 15
        assertEquals(10, table[reach - 16]);
        assertEquals(12, table[reach - 32]);
        assertEquals(14, table[reach - 64]);
        assertEquals(16 + 13, table[reach + 63]);
        assertEquals(15, table[0]);
        assertEquals(31, table[2 * reach]);
    }

    private static float maxDiff(float[] a, int aFrom, float[] b, int bFrom, int count) {
        float diff = 0;
        for (int i = 0; i < count; i++) {
            float d = Math.abs(a[aFrom + i] - b[bFrom + i]);
            diff = Float.isNaN(d) ? Float.POSITIVE_INFINITY : Math.max(diff, d);
        }
        return diff;
    }

    private static float[] run(byte[] model, Path folder, long[] ids, int rows) throws Exception {
        OrtEnvironment env = OrtRuntime.environment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.addConfigEntry(FOLDER_OPTION, folder.toString());
            try (OrtSession session = env.createSession(model, options);
                 OnnxTensor input = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {rows, ids.length / rows});
                 OrtSession.Result result = session.run(Map.of("input_ids", input))) {
                FloatBuffer b = ((OnnxTensor) result.get("last_hidden_state").orElseThrow()).getFloatBuffer();
                float[] values = new float[b.remaining()];
                b.get(values);
                return values;
            }
        }
    }
}
