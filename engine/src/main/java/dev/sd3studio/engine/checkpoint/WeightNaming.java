package dev.sd3studio.engine.checkpoint;

/** Which names a component's weights carry; the graph builders read each with its own table. */
public enum WeightNaming {
    /** Stability AI's: the original MMDiT ({@code joint_blocks.N.x_block.attn.qkv}) and LDM VAE names. */
    ORIGINAL,
    /** diffusers' ({@code transformer_blocks.N.attn.to_q}, {@code decoder.up_blocks}). */
    DIFFUSERS,
    /** transformers' ({@code text_model.encoder.layers.N}, {@code encoder.block.N}): text encoders in every format. */
    TRANSFORMERS
}
