package dev.sd3studio.engine.graph;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.checkpoint.ComponentWeights;
import dev.sd3studio.engine.checkpoint.WeightNaming;
import dev.sd3studio.engine.checkpoint.WeightRef;

import java.util.ArrayList;
import java.util.List;

/**
 * An MMDiT's weights by role, in either naming: Stability AI's original one ({@code joint_blocks.N.x_block.attn.qkv},
 * q|k|v fused) or diffusers' ({@code transformer_blocks.N.attn.to_q}). Every piece is handed out in diffusers'
 * order, whatever the file's: fused tensors are cut into row ranges of the same bytes, and the (shift, scale)
 * halves that the original layout stores the other way round are referenced in diffusers' (scale, shift) order.
 */
final class MmditWeights {
    /**
     * A linear layer's stored [out, in] weight and [out] bias; {@code module} is its diffusers module path
     * ({@code transformer_blocks.0.attn.to_q}), which LoRAs name it by whatever the file's naming, or null;
     * {@code firstRow}: for a modulation's chunk, the row of the diffusers module's output it starts at, else -1.
     */
    record Linear(String name, String module, WeightRef weight, WeightRef bias, long firstRow) {
        Linear(String name, String module, WeightRef weight, WeightRef bias) {
            this(name, module, weight, bias, -1);
        }

        long out() {
            return weight.dim(0);
        }

        long in() {
            return weight.dim(-1);
        }

        /** Output rows [from, to) of this layer: another layer over the same bytes, with no module path of its own. */
        Linear rows(String part, long from, long to) {
            return new Linear(name + "." + part, null, weight.rows(from, to), bias.rows(from, to));
        }

        Linear module(String diffusersPath) {
            return new Linear(name, diffusersPath, weight, bias);
        }

        /** This chunk as rows from {@code first} of the diffusers module {@code diffusersPath}. */
        Linear part(String diffusersPath, long first) {
            return new Linear(name, diffusersPath, weight, bias, first);
        }
    }

    /** A block's three attention paths: the joint one's image and context halves, and SD3.5's image-only attn2. */
    enum Path {
        IMAGE, CONTEXT, IMAGE2
    }

    private final ComponentWeights weights;
    private final boolean original;
    private final long hidden;

    MmditWeights(ComponentWeights weights, long hidden) {
        this.weights = weights;
        this.original = weights.naming() == WeightNaming.ORIGINAL;
        this.hidden = hidden;
    }

    String description() {
        return weights.component().description() + " in " + weights.folder();
    }

    boolean has(String name) {
        return weights.has(name);
    }

    WeightRef patchEmbedWeight() throws EngineException {
        return weights.require(original ? "x_embedder.proj.weight" : "pos_embed.proj.weight");
    }

    WeightRef patchEmbedBias() throws EngineException {
        return weights.require(original ? "x_embedder.proj.bias" : "pos_embed.proj.bias");
    }

    WeightRef positionTable() throws EngineException {
        return weights.require(original ? "pos_embed" : "pos_embed.pos_embed");
    }

    /** {@code layer} 1 or 2 of the timestep MLP. */
    Linear timestep(int layer) throws EngineException {
        return linear("t_embedder.mlp." + (2 * layer - 2), "time_text_embed.timestep_embedder.linear_" + layer);
    }

    /** {@code layer} 1 or 2 of the pooled text projection. */
    Linear pooled(int layer) throws EngineException {
        return linear("y_embedder.mlp." + (2 * layer - 2), "time_text_embed.text_embedder.linear_" + layer);
    }

    Linear contextEmbedder() throws EngineException {
        return linear("context_embedder", "context_embedder");
    }

    /** The block's image-stream modulation cut into {@code chunks} (6, or 9 with dual attention), diffusers' order. */
    List<Linear> imageModulation(int block, int chunks) throws EngineException {
        return split(linear(block(block) + "x_block.adaLN_modulation.1", DIFFUSERS_BLOCK + block + ".norm1.linear"),
                chunks, false);
    }

    /**
     * The block's context modulation: 6 chunks, or for the last block (context only feeds the image's
     * attention) 2, which diffusers orders (scale, shift) and the original layout (shift, scale).
     */
    List<Linear> contextModulation(int block, boolean preOnly) throws EngineException {
        Linear l = linear(block(block) + "context_block.adaLN_modulation.1", DIFFUSERS_BLOCK + block + ".norm1_context.linear");
        return split(l, preOnly ? 2 : 6, preOnly && original);
    }

    /** The final layer's modulation as (scale, shift). */
    List<Linear> finalModulation() throws EngineException {
        return split(linear("final_layer.adaLN_modulation.1", "norm_out.linear"), 2, original);
    }

    Linear projOut() throws EngineException {
        return linear("final_layer.linear", "proj_out");
    }

    /** q, k, v of one attention path. */
    List<Linear> qkv(int block, Path path) throws EngineException {
        if (original) {
            Linear fused = linear(originalAttention(block, path) + ".qkv");
            if (fused.out() != 3 * hidden) {
                throw new EngineException(Kind.CORRUPT_FILE, description() + " has " + fused.name() + " " + fused.weight()
                        + ", not q, k and v of width " + hidden + " fused.");
            }
            String a = block + (path == Path.IMAGE2 ? ".attn2." : ".attn.");
            String[] names = path == Path.CONTEXT ? new String[] {"add_q_proj", "add_k_proj", "add_v_proj"}
                    : new String[] {"to_q", "to_k", "to_v"};
            return List.of(fused.rows("q", 0, hidden).module(DIFFUSERS_BLOCK + a + names[0]),
                    fused.rows("k", hidden, 2 * hidden).module(DIFFUSERS_BLOCK + a + names[1]),
                    fused.rows("v", 2 * hidden, 3 * hidden).module(DIFFUSERS_BLOCK + a + names[2]));
        }
        String a = block(block) + (path == Path.IMAGE2 ? "attn2." : "attn.");
        List<Linear> qkv = path == Path.CONTEXT
                ? List.of(linear(a + "add_q_proj"), linear(a + "add_k_proj"), linear(a + "add_v_proj"))
                : List.of(linear(a + "to_q"), linear(a + "to_k"), linear(a + "to_v"));
        for (Linear l : qkv) {
            square(l);
        }
        return qkv;
    }

    /** The attention output projection of one path. */
    Linear attentionOut(int block, Path path) throws EngineException {
        String diffusers = DIFFUSERS_BLOCK + block + (path == Path.IMAGE2 ? ".attn2." : ".attn.")
                + (path == Path.CONTEXT ? "to_add_out" : "to_out.0");
        return square(linear(originalAttention(block, path) + ".proj", diffusers));
    }

    /** The RMS QK-norm weights (q then k) of one path. */
    List<WeightRef> qkNorm(int block, Path path) throws EngineException {
        String q;
        String k;
        if (original) {
            q = originalAttention(block, path) + ".ln_q.weight";
            k = originalAttention(block, path) + ".ln_k.weight";
        } else {
            String a = block(block) + (path == Path.IMAGE2 ? "attn2." : "attn.");
            String added = path == Path.CONTEXT ? "added_" : "";
            q = a + "norm_" + added + "q.weight";
            k = a + "norm_" + added + "k.weight";
        }
        return List.of(weights.require(q), weights.require(k));
    }

    /** Whether the block has SD3.5's QK-norm (its image path's q norm is stored). */
    boolean hasQkNorm(int block) {
        return weights.has(original ? block(block) + "x_block.attn.ln_q.weight" : block(block) + "attn.norm_q.weight");
    }

    boolean hasDualAttention(int block) {
        return weights.has(original ? block(block) + "x_block.attn2.qkv.weight" : block(block) + "attn2.to_q.weight");
    }

    boolean hasBlock(int block) {
        return weights.has(original ? block(block) + "x_block.adaLN_modulation.1.weight" : block(block) + "norm1.linear.weight");
    }

    /** {@code layer} 1 or 2 of the image ({@code context} false) or context MLP. */
    Linear mlp(int block, boolean context, int layer) throws EngineException {
        Linear l = linear(block(block) + (context ? "context_block" : "x_block") + ".mlp.fc" + layer,
                DIFFUSERS_BLOCK + block + "." + (context ? "ff_context" : "ff") + (layer == 1 ? ".net.0.proj" : ".net.2"));
        if ((layer == 1 ? l.in() : l.out()) != hidden) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, description() + " has " + l.name() + " " + l.weight()
                    + ", which does not " + (layer == 1 ? "take" : "give") + " width " + hidden
                    + ": the config does not belong to these weights.");
        }
        return l;
    }

    private static final String DIFFUSERS_BLOCK = "transformer_blocks.";

    private String block(int block) {
        return (original ? "joint_blocks." : "transformer_blocks.") + block + ".";
    }

    private String originalAttention(int block, Path path) {
        return block(block) + switch (path) {
            case IMAGE -> "x_block.attn";
            case CONTEXT -> "context_block.attn";
            case IMAGE2 -> "x_block.attn2";
        };
    }

    /** The layer stored as {@code originalName} or {@code diffusersName}, whichever this file's naming uses. */
    private Linear linear(String originalName, String diffusersName) throws EngineException {
        return linear(original ? originalName : diffusersName).module(diffusersName);
    }

    /** The layer stored as {@code name}; its module path is the name in diffusers' naming, none in the original's. */
    private Linear linear(String name) throws EngineException {
        Linear l = new Linear(name, original ? null : name, weights.require(name + ".weight"), weights.require(name + ".bias"));
        if (l.weight().rank() != 2 || l.bias().rank() != 1 || l.bias().dim(0) != l.out()) {
            throw new EngineException(Kind.CORRUPT_FILE, description() + " has " + name + " weight " + l.weight()
                    + " and bias " + l.bias() + ", which are no linear layer.");
        }
        return l;
    }

    /** {@code l} itself, checked to map width {@code hidden} to itself. */
    private Linear square(Linear l) throws EngineException {
        if (l.in() != hidden || l.out() != hidden) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, description() + " has " + l.name() + " " + l.weight()
                    + ", not " + hidden + " × " + hidden + ": the config does not belong to these weights.");
        }
        return l;
    }

    /** {@code l}'s output rows in {@code chunks} equal parts; {@code swapPair}: a 2-chunk tensor stored the other way round. */
    private List<Linear> split(Linear l, int chunks, boolean swapPair) throws EngineException {
        if (l.out() != chunks * hidden || l.in() != hidden) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, description() + " has " + l.name() + " " + l.weight()
                    + ", but a modulation of " + chunks + " × " + hidden + " outputs from " + hidden + " was expected:"
                    + " the config does not belong to these weights.");
        }
        List<Linear> parts = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            parts.add(l.rows(Integer.toString(c), c * hidden, (c + 1) * hidden));
        }
        List<Linear> ordered = swapPair ? List.of(parts.get(1), parts.get(0)) : parts;
        // each chunk is rows of the diffusers module in diffusers' order, which is what a LoRA's B rows follow
        List<Linear> out = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            out.add(ordered.get(c).part(l.module(), c * hidden));
        }
        return out;
    }
}
