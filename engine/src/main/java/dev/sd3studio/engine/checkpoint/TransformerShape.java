package dev.sd3studio.engine.checkpoint;

import dev.sd3studio.engine.format.StoredTensor;

import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an MMDiT's tensor names and shapes say about it, in either naming: depth, width, SD3.5's QK-norm and
 * dual-attention blocks, the positional table's size. The head count is not among them (it is in no shape),
 * which is why a family or a config must supply it.
 *
 * @param posEmbedTokens rows of the positional table (pos_embed_max_size²), -1 when absent
 */
public record TransformerShape(int depth, long hidden, boolean qkNorm, SortedSet<Integer> dualAttentionBlocks,
                               long posEmbedTokens, long patchSize, long contextDim, long pooledDim) {
    private static final Pattern ORIGINAL_BLOCK = Pattern.compile("^joint_blocks\\.(\\d+)\\.");
    private static final Pattern DIFFUSERS_BLOCK = Pattern.compile("^transformer_blocks\\.(\\d+)\\.");

    /** Reads the shape from tensor names without any file prefix; empty when the MMDiT's embedder is missing. */
    public static Optional<TransformerShape> of(Map<String, StoredTensor> tensors, WeightNaming naming) {
        boolean original = naming == WeightNaming.ORIGINAL;
        Pattern block = original ? ORIGINAL_BLOCK : DIFFUSERS_BLOCK;
        StoredTensor embedder = tensors.get(original ? "x_embedder.proj.weight" : "pos_embed.proj.weight");
        if (embedder == null || embedder.rank() != 4) {
            return Optional.empty();
        }
        int depth = 0;
        SortedSet<Integer> dual = new TreeSet<>();
        for (String name : tensors.keySet()) {
            Matcher m = block.matcher(name);
            if (m.find()) {
                int index = Integer.parseInt(m.group(1));
                depth = Math.max(depth, index + 1);
                String rest = name.substring(m.end());
                if (rest.startsWith(original ? "x_block.attn2." : "attn2.")) {
                    dual.add(index);
                }
            }
        }
        boolean qkNorm = tensors.containsKey(original ? "joint_blocks.0.x_block.attn.ln_q.weight"
                : "transformer_blocks.0.attn.norm_q.weight");
        StoredTensor pos = tensors.get(original ? "pos_embed" : "pos_embed.pos_embed");
        StoredTensor context = tensors.get(original ? "context_embedder.weight" : "context_embedder.weight");
        StoredTensor pooled = tensors.get(original ? "y_embedder.mlp.0.weight"
                : "time_text_embed.text_embedder.linear_1.weight");
        return Optional.of(new TransformerShape(depth, embedder.dim(0), qkNorm, dual,
                pos != null && pos.rank() == 3 ? pos.dim(1) : -1, embedder.dim(-1),
                context != null ? context.dim(-1) : -1, pooled != null ? pooled.dim(-1) : -1));
    }
}
