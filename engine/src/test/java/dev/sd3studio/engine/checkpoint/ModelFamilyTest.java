package dev.sd3studio.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.format.SafetensorsDType;
import dev.sd3studio.engine.format.StoredTensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The released families from their MMDiT keys and shapes (headers only, as diffusers'
 * {@code infer_diffusers_model_type}), and the built-in configs agree with the shapes they are chosen for.
 */
class ModelFamilyTest {

    /** An MMDiT header in Stability AI's names: depth blocks of width 64 × depth. */
    private static Map<String, StoredTensor> mmdit(int depth, boolean qkNorm, int dualBlocks, long posTokens) {
        long h = 64L * depth;
        Map<String, StoredTensor> t = new LinkedHashMap<>();
        put(t, "x_embedder.proj.weight", h, 16, 2, 2);
        put(t, "pos_embed", 1, posTokens, h);
        put(t, "context_embedder.weight", h, 4096);
        put(t, "y_embedder.mlp.0.weight", h, 2048);
        for (int i = 0; i < depth; i++) {
            put(t, "joint_blocks." + i + ".x_block.attn.qkv.weight", 3 * h, h);
            if (qkNorm) {
                put(t, "joint_blocks." + i + ".x_block.attn.ln_q.weight", 64);
            }
            if (i < dualBlocks) {
                put(t, "joint_blocks." + i + ".x_block.attn2.qkv.weight", 3 * h, h);
            }
        }
        return t;
    }

    private static void put(Map<String, StoredTensor> t, String name, long... shape) {
        t.put(name, new StoredTensor(name, "F16", SafetensorsDType.F16, shape, 0, 0));
    }

    private static Optional<ModelFamily> detect(Map<String, StoredTensor> t, String file) {
        return ModelFamily.detect(TransformerShape.of(t, WeightNaming.ORIGINAL).orElseThrow(), file);
    }

    @Test
    void theReleasedFamiliesAreRecognised() {
        assertEquals(Optional.of(ModelFamily.SD3_MEDIUM), detect(mmdit(24, false, 0, 36864), "sd3_medium.safetensors"));
        assertEquals(Optional.of(ModelFamily.SD35_MEDIUM), detect(mmdit(24, true, 13, 147456), "sd3.5_medium.safetensors"));
        assertEquals(Optional.of(ModelFamily.SD35_LARGE), detect(mmdit(38, true, 0, 36864), "sd3.5_large.safetensors"));
        assertEquals(Optional.of(ModelFamily.SD35_LARGE_TURBO),
                detect(mmdit(38, true, 0, 36864), "sd3.5_large_Turbo.safetensors"));
    }

    @Test
    void otherShapesAreNoFamily() {
        assertEquals(Optional.empty(), detect(mmdit(30, true, 0, 36864), "x.safetensors"), "30 blocks: no release");
        Map<String, StoredTensor> narrow = mmdit(24, false, 0, 36864);
        put(narrow, "x_embedder.proj.weight", 1024, 16, 2, 2); // width ≠ 64 × depth
        assertEquals(Optional.empty(), detect(narrow, "x.safetensors"));
        assertEquals(Optional.empty(), detect(mmdit(24, false, 3, 36864), "x.safetensors"), "dual attention without QK-norm");
    }

    @Test
    void eachBuiltInTransformerConfigMatchesItsFamilysShape() throws Exception {
        record Case(ModelFamily family, Map<String, StoredTensor> tensors) {
        }
        for (Case c : List.of(new Case(ModelFamily.SD3_MEDIUM, mmdit(24, false, 0, 36864)),
                new Case(ModelFamily.SD35_MEDIUM, mmdit(24, true, 13, 147456)),
                new Case(ModelFamily.SD35_LARGE, mmdit(38, true, 0, 36864)))) {
            TransformerShape shape = TransformerShape.of(c.tensors(), WeightNaming.ORIGINAL).orElseThrow();
            JsonNode config = CheckpointConfigs.resolve(List.of(), Optional.of(c.family()))
                    .find("transformer").orElseThrow().json();
            assertEquals(shape.depth(), config.path("num_layers").asInt(), c.family().name());
            assertEquals(shape.hidden(), config.path("num_attention_heads").asLong() * config.path("attention_head_dim").asLong());
            assertEquals(shape.hidden(), config.path("caption_projection_dim").asLong());
            long side = config.path("pos_embed_max_size").asLong();
            assertEquals(shape.posEmbedTokens(), side * side, c.family().name());
            assertEquals(shape.dualAttentionBlocks().size(), config.path("dual_attention_layers").size());
            assertEquals(shape.qkNorm(), config.hasNonNull("qk_norm"));
        }
    }
}
