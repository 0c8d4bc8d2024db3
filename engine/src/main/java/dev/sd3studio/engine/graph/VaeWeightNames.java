package dev.sd3studio.engine.graph;

import dev.sd3studio.engine.checkpoint.WeightNaming;

/**
 * Where each part of the VAE lies under the two namings a checkpoint can use: the LDM names of a Stability AI
 * single file ({@code encoder.down.0.block.0}, {@code decoder.up.3.upsample}) and diffusers' own
 * ({@code encoder.down_blocks.0.resnets.0}, {@code decoder.up_blocks.0.upsamplers.0}). Every name is a prefix
 * to which {@code .weight} or {@code .bias} is added.
 */
enum VaeWeightNames {
    ORIGINAL {
        @Override
        String resnet(String side, int block, int index) {
            return side + (side.equals(ENCODER) ? ".down." : ".up.") + block + ".block." + index;
        }

        @Override
        String shortcut() {
            return "nin_shortcut";
        }

        @Override
        String downsample(int block) {
            return ENCODER + ".down." + block + ".downsample.conv";
        }

        @Override
        String upsample(int block) {
            return DECODER + ".up." + block + ".upsample.conv";
        }

        @Override
        String midResnet(String side, int index) {
            return side + ".mid.block_" + (index + 1);
        }

        @Override
        String attention(String side, Attention part) {
            String name = switch (part) {
                case NORM -> "norm";
                case Q -> "q";
                case K -> "k";
                case V -> "v";
                case OUT -> "proj_out";
            };
            return side + ".mid.attn_1." + name;
        }

        @Override
        String normOut(String side) {
            return side + ".norm_out";
        }

        /** LDM's decoder counts its up blocks from the lowest resolution, diffusers' from the highest. */
        @Override
        int decoderBlock(int diffusersIndex, int blocks) {
            return blocks - 1 - diffusersIndex;
        }
    },
    DIFFUSERS {
        @Override
        String resnet(String side, int block, int index) {
            return side + (side.equals(ENCODER) ? ".down_blocks." : ".up_blocks.") + block + ".resnets." + index;
        }

        @Override
        String shortcut() {
            return "conv_shortcut";
        }

        @Override
        String downsample(int block) {
            return ENCODER + ".down_blocks." + block + ".downsamplers.0.conv";
        }

        @Override
        String upsample(int block) {
            return DECODER + ".up_blocks." + block + ".upsamplers.0.conv";
        }

        @Override
        String midResnet(String side, int index) {
            return side + ".mid_block.resnets." + index;
        }

        @Override
        String attention(String side, Attention part) {
            String name = switch (part) {
                case NORM -> "group_norm";
                case Q -> "to_q";
                case K -> "to_k";
                case V -> "to_v";
                case OUT -> "to_out.0";
            };
            return side + ".mid_block.attentions.0." + name;
        }

        @Override
        String normOut(String side) {
            return side + ".conv_norm_out";
        }

        @Override
        int decoderBlock(int diffusersIndex, int blocks) {
            return diffusersIndex;
        }
    };

    static final String ENCODER = "encoder";
    static final String DECODER = "decoder";

    enum Attention { NORM, Q, K, V, OUT }

    /** The {@code index}-th resnet of down block {@code block} (encoder) or up block {@code block} (decoder, in this naming's count). */
    abstract String resnet(String side, int block, int index);

    /** The 1×1 convolution a resnet has when its input and output widths differ. */
    abstract String shortcut();

    abstract String downsample(int block);

    abstract String upsample(int block);

    abstract String midResnet(String side, int index);

    abstract String attention(String side, Attention part);

    abstract String normOut(String side);

    /** The stored index of the decoder up block that diffusers calls {@code diffusersIndex} of {@code blocks}. */
    abstract int decoderBlock(int diffusersIndex, int blocks);

    static VaeWeightNames of(WeightNaming naming) {
        return switch (naming) {
            case ORIGINAL -> ORIGINAL;
            case DIFFUSERS -> DIFFUSERS;
            case TRANSFORMERS -> throw new IllegalArgumentException("a VAE has no transformers naming");
        };
    }
}
