package dev.sd3studio.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Shapes that must agree, checked when a checkpoint is opened rather than as a failed session later: the
 * MMDiT's blocks with each other and with its config, each text encoder's width and depth with the config
 * of the slot it was put in (a clip_g file given as CLIP-L is caught here).
 */
final class ShapeChecks {
    private static final Pattern CLIP_LAYER = Pattern.compile("^text_model\\.encoder\\.layers\\.(\\d+)\\.");
    private static final Pattern T5_BLOCK = Pattern.compile("^encoder\\.block\\.(\\d+)\\.");

    private ShapeChecks() {
    }

    static void check(Path source, TransformerShape shape, Map<CheckpointComponent, ComponentWeights> components,
                      CheckpointConfigs configs) throws EngineException {
        ComponentWeights mmdit = components.get(CheckpointComponent.TRANSFORMER);
        checkBlocks(source, shape, mmdit);
        CheckpointConfigs.Entry t = configs.require(CheckpointComponent.TRANSFORMER, source);
        JsonNode c = t.json();
        agree(mmdit, t, "num_layers", c.path("num_layers").asLong(-1), shape.depth());
        agree(mmdit, t, "num_attention_heads × attention_head_dim",
                c.path("num_attention_heads").asLong(-1) * c.path("attention_head_dim").asLong(-1), shape.hidden());
        agree(mmdit, t, "patch_size", c.path("patch_size").asLong(2), shape.patchSize());
        agree(mmdit, t, "joint_attention_dim", c.path("joint_attention_dim").asLong(shape.contextDim()), shape.contextDim());
        agree(mmdit, t, "pooled_projection_dim", c.path("pooled_projection_dim").asLong(shape.pooledDim()), shape.pooledDim());
        boolean configQkNorm = c.hasNonNull("qk_norm");
        if (configQkNorm != shape.qkNorm()) {
            throw contradiction(mmdit, t, "qk_norm", configQkNorm ? "QK-norm" : "none",
                    shape.qkNorm() ? "QK-norm (ln_q/ln_k)" : "none");
        }
        SortedSet<Integer> dual = new TreeSet<>();
        c.path("dual_attention_layers").forEach(n -> dual.add(n.asInt()));
        if (!dual.equals(shape.dualAttentionBlocks())) {
            throw contradiction(mmdit, t, "dual_attention_layers", dual.toString(), shape.dualAttentionBlocks().toString());
        }
        configs.require(CheckpointComponent.VAE, source);
        for (CheckpointComponent clip : new CheckpointComponent[] {CheckpointComponent.CLIP_L, CheckpointComponent.CLIP_G}) {
            ComponentWeights w = components.get(clip);
            CheckpointConfigs.Entry e = configs.require(clip, source);
            long width = dim(w, "text_model.embeddings.token_embedding.weight", 1);
            agree(w, e, "hidden_size", e.json().path("hidden_size").asLong(-1), width);
            agree(w, e, "num_hidden_layers", e.json().path("num_hidden_layers").asLong(-1), count(w, CLIP_LAYER));
        }
        Optional<ComponentWeights> t5 = Optional.ofNullable(components.get(CheckpointComponent.T5));
        if (t5.isPresent()) {
            CheckpointConfigs.Entry e = configs.require(CheckpointComponent.T5, source);
            agree(t5.get(), e, "d_model", e.json().path("d_model").asLong(-1), dim(t5.get(), "shared.weight", 1));
            agree(t5.get(), e, "num_layers", e.json().path("num_layers").asLong(-1), count(t5.get(), T5_BLOCK));
        }
    }

    /** Every block's attention input projection must be as wide as the patch embedder. */
    private static void checkBlocks(Path source, TransformerShape shape, ComponentWeights mmdit) throws EngineException {
        long h = shape.hidden();
        for (int i = 0; i < shape.depth(); i++) {
            String name = mmdit.naming() == WeightNaming.ORIGINAL
                    ? "joint_blocks." + i + ".x_block.attn.qkv.weight" : "transformer_blocks." + i + ".attn.to_q.weight";
            long rows = mmdit.naming() == WeightNaming.ORIGINAL ? 3 * h : h;
            WeightRef w = mmdit.require(name);
            if (w.rank() != 2 || w.dim(0) != rows || w.dim(1) != h) {
                throw new EngineException(Kind.CORRUPT_FILE, "the MMDiT in " + source + " contradicts itself: its patch"
                        + " embedder is " + h + " wide, but " + name + " has shape " + java.util.Arrays.toString(w.shape())
                        + ". The file is damaged or was merged from different models.");
            }
        }
    }

    private static long dim(ComponentWeights w, String name, int axis) throws EngineException {
        WeightRef r = w.require(name);
        return r.rank() > axis ? r.dim(axis) : -1;
    }

    private static long count(ComponentWeights w, Pattern p) {
        long n = 0;
        for (String name : w.weights().keySet()) {
            Matcher m = p.matcher(name);
            if (m.find()) {
                n = Math.max(n, Long.parseLong(m.group(1)) + 1);
            }
        }
        return n;
    }

    private static void agree(ComponentWeights w, CheckpointConfigs.Entry config, String field, long configured,
                              long stored) throws EngineException {
        if (configured != stored) {
            throw contradiction(w, config, field, Long.toString(configured), Long.toString(stored));
        }
    }

    private static EngineException contradiction(ComponentWeights w, CheckpointConfigs.Entry config, String field,
                                                 String configured, String stored) {
        return new EngineException(Kind.INCOMPATIBLE_MODEL, w.component().description() + " (" + w.folder()
                + ") does not fit its config (" + config.source() + "): the config says " + field + " = " + configured
                + ", the weights say " + stored + ". The file is for another model (a clip_g file in the CLIP-L slot, say)"
                + " or the config belongs to another model.");
    }
}
