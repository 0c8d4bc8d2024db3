package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.model.Component;

import java.util.List;

/**
 * One LoRA layer of a file: its down (A, rank × in) and up (B, out × rank) tensors, the optional alpha
 * tensor, and the model layers it changes. A fused layer (SD3 original {@code attn.qkv}) has several
 * targets, each taking its own block of B's rows.
 *
 * @param key   the tensor-name prefix as written in the file, for the match report
 * @param alpha the name of the alpha tensor, or null (then alpha = rank)
 */
record LoraModule(String key, Component component, String down, String up, String alpha, List<Target> targets) {
    public LoraModule {
        targets = List.copyOf(targets);
    }

    /**
     * A layer of the model a LoRA module changes.
     *
     * @param modulePath      the diffusers module path ({@code transformer_blocks.0.attn.to_q}), or null
     * @param flatName        the kohya underscore form ({@code transformer_blocks_0_attn_to_q}) when the dotted
     *                        path cannot be recovered from it, or null
     * @param chunk           which block of B's rows this layer takes, of {@code chunks} equal blocks
     * @param swapIfTwoChunks the SD3 original stores (shift, scale) where diffusers' continuous AdaLayerNorm
     *                        has (scale, shift): swap B's row halves when the target's output is twice its input
     */
    public record Target(String modulePath, String flatName, int chunk, int chunks, boolean swapIfTwoChunks) {
        public static Target of(String modulePath) {
            return new Target(modulePath, null, 0, 1, false);
        }

        public static Target flat(String flatName) {
            return new Target(null, flatName, 0, 1, false);
        }

        /** How the report names this target before it is matched. */
        public String describe() {
            String n = modulePath != null ? modulePath : flatName;
            return chunks > 1 ? n + " (part " + (chunk + 1) + "/" + chunks + ")" : n;
        }
    }
}
