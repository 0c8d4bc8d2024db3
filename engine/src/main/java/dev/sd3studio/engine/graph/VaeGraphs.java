package dev.sd3studio.engine.graph;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.checkpoint.Checkpoint;
import dev.sd3studio.engine.checkpoint.CheckpointComponent;
import dev.sd3studio.engine.checkpoint.ComponentWeights;
import dev.sd3studio.engine.checkpoint.WeightRef;
import dev.sd3studio.engine.graph.VaeWeightNames.Attention;
import dev.sd3studio.engine.onnx.ModelProto;
import dev.sd3studio.engine.onnx.TensorProto.DataType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.sd3studio.engine.graph.VaeWeightNames.DECODER;
import static dev.sd3studio.engine.graph.VaeWeightNames.ENCODER;

/**
 * The VAE's decoder and encoder as diffusers' {@code AutoencoderKL} computes them, built from a checkpoint's
 * weights in place. Their interfaces are the Optimum exports' that {@code vae.VaeDecoder} and
 * {@code vae.VaeEncoder} read: the decoder takes {@code latent_sample} [batch, latent channels, h, w] (already
 * unscaled) and gives {@code sample} [batch, 3, 8h, 8w]; the encoder takes {@code sample} and gives
 * {@code latent_parameters} [batch, 2·latent channels, h/8, w/8], the posterior's mean and log-variance as
 * {@code conv_out} leaves them (unclamped, as diffusers' {@code latent_dist.parameters}).
 *
 * <p>GroupNorm is a Reshape to [batch, groups, ·], InstanceNormalization and the per-channel affine, as the
 * exports do it. 1-D norm weights and the mid attention's q, k, v, out weights are referenced with the shape the
 * node needs ([C, 1, 1], [C, C, 1, 1]): the same bytes, another view, no copy.
 */
public final class VaeGraphs {
    /** diffusers' AutoencoderKL: {@code eps=1e-6} in every GroupNorm of encoder and decoder. */
    private static final float NORM_EPS = 1e-6f;

    /** What no tensor shape says, from the VAE's {@code config.json}. */
    public record Settings(int inChannels, int outChannels, int latentChannels, List<Integer> blockOutChannels,
                           int layersPerBlock, int groups, boolean midAttention) {
        public Settings {
            blockOutChannels = List.copyOf(blockOutChannels);
        }

        public static Settings of(JsonNode config, String source) throws EngineException {
            JsonNode blocks = config.path("block_out_channels");
            if (!blocks.isArray() || blocks.isEmpty()) {
                throw new EngineException(Kind.CORRUPT_FILE, source + " has no 'block_out_channels' list.");
            }
            List<Integer> channels = new ArrayList<>();
            for (JsonNode b : blocks) {
                if (!b.canConvertToInt() || b.asInt() <= 0) {
                    throw new EngineException(Kind.CORRUPT_FILE, source + " has a 'block_out_channels' entry " + b
                            + " that is no positive whole number.");
                }
                channels.add(b.asInt());
            }
            String act = config.path("act_fn").asText("silu");
            if (!act.equals("silu")) {
                throw new EngineException(Kind.INCOMPATIBLE_MODEL, source + " asks for the activation '" + act
                        + "'; SD3 Studio's VAE supports silu (AutoencoderKL's).");
            }
            // diffusers' defaults where SD3's config is silent
            int groups = positive(config, "norm_num_groups", 32, source);
            for (int c : channels) {
                if (c % groups != 0) {
                    throw new EngineException(Kind.INCOMPATIBLE_MODEL, source + " has a block of " + c
                            + " channels, which norm_num_groups " + groups + " does not divide.");
                }
            }
            return new Settings(positive(config, "in_channels", 3, source), positive(config, "out_channels", 3, source),
                    positive(config, "latent_channels", 4, source), channels,
                    positive(config, "layers_per_block", 1, source), groups,
                    config.path("mid_block_add_attention").asBoolean(true));
        }

        private static int positive(JsonNode config, String key, int otherwise, String source) throws EngineException {
            JsonNode n = config.path(key);
            if (n.isMissingNode() || n.isNull()) {
                return otherwise;
            }
            if (!n.canConvertToInt() || n.asInt() <= 0) {
                throw new EngineException(Kind.CORRUPT_FILE, source + " has no positive '" + key + "'.");
            }
            return n.asInt();
        }

        int widest() {
            return blockOutChannels.getLast();
        }

        /** Pixels per latent along each axis: one halving per block but the last. */
        int downscale() {
            return 1 << (blockOutChannels.size() - 1);
        }
    }

    private final GraphBuilder g;
    private final ComponentWeights weights;
    private final Settings settings;
    private final VaeWeightNames names;
    private final String side;
    private String groupShape;
    private String groupOnes;
    private String groupZeros;
    private String flatPixelsShape;

    private VaeGraphs(ComponentWeights weights, Settings settings, String side) {
        this.g = new GraphBuilder("vae_" + side, weights.folder());
        this.weights = weights;
        this.settings = settings;
        this.names = VaeWeightNames.of(weights.naming());
        this.side = side;
    }

    /** The decoder of an opened checkpoint's VAE, with its config. */
    public static ModelProto decoder(Checkpoint checkpoint) throws EngineException {
        return decoder(checkpoint.require(CheckpointComponent.VAE), settings(checkpoint));
    }

    /** The encoder of an opened checkpoint's VAE, with its config. */
    public static ModelProto encoder(Checkpoint checkpoint) throws EngineException {
        return encoder(checkpoint.require(CheckpointComponent.VAE), settings(checkpoint));
    }

    public static ModelProto decoder(ComponentWeights weights, Settings settings) throws EngineException {
        return new VaeGraphs(weights, settings, DECODER).buildDecoder();
    }

    public static ModelProto encoder(ComponentWeights weights, Settings settings) throws EngineException {
        return new VaeGraphs(weights, settings, ENCODER).buildEncoder();
    }

    private static Settings settings(Checkpoint checkpoint) throws EngineException {
        var config = checkpoint.configs().require(CheckpointComponent.VAE, checkpoint.source());
        return Settings.of(config.json(), config.source());
    }

    private ModelProto buildDecoder() throws EngineException {
        List<Integer> widths = settings.blockOutChannels().reversed();
        int blocks = widths.size();
        String z = g.input("latent_sample", DataType.FLOAT, "batch_size", settings.latentChannels(), "latent_height",
                "latent_width");
        prepareShapes();
        // absent in SD3's VAE (use_post_quant_conv false); applied where a file has it, as AutoencoderKL does
        if (weights.has("post_quant_conv.weight")) {
            z = conv(z, "post_quant_conv", settings.latentChannels(), settings.latentChannels(), 1, 1);
        }
        String x = conv(z, DECODER + ".conv_in", settings.latentChannels(), widths.getFirst(), 3, 1);
        x = mid(x, widths.getFirst());
        int width = widths.getFirst();
        for (int i = 0; i < blocks; i++) {
            int stored = names.decoderBlock(i, blocks);
            for (int j = 0; j <= settings.layersPerBlock(); j++) {
                x = resnet(x, names.resnet(DECODER, stored, j), width, widths.get(i));
                width = widths.get(i);
            }
            if (i < blocks - 1) {
                String upsampled = g.node("Resize", List.of(x, "", g.constant("scales", new float[] {1, 1, 2, 2}, 4)),
                        Attr.s("mode", "nearest"), Attr.s("nearest_mode", "floor"),
                        Attr.s("coordinate_transformation_mode", "asymmetric"));
                x = conv(upsampled, names.upsample(stored), width, width, 3, 1);
            }
        }
        // one block more is stored index `blocks` in either count
        refuseMore(names.resnet(DECODER, blocks, 0), "up blocks");
        refuseMore(names.resnet(DECODER, 0, settings.layersPerBlock() + 1), "resnets per block");
        x = silu(groupNorm(x, names.normOut(DECODER), width));
        x = conv(x, DECODER + ".conv_out", width, settings.outChannels(), 3, 1);
        g.identity(x, "sample");
        String scale = " * " + settings.downscale();
        g.output("sample", DataType.FLOAT, "batch_size", settings.outChannels(), "latent_height" + scale,
                "latent_width" + scale);
        return g.build();
    }

    private ModelProto buildEncoder() throws EngineException {
        List<Integer> widths = settings.blockOutChannels();
        int blocks = widths.size();
        String image = g.input("sample", DataType.FLOAT, "batch_size", settings.inChannels(), "sample_height",
                "sample_width");
        prepareShapes();
        String x = conv(image, ENCODER + ".conv_in", settings.inChannels(), widths.getFirst(), 3, 1);
        int width = widths.getFirst();
        for (int i = 0; i < blocks; i++) {
            for (int j = 0; j < settings.layersPerBlock(); j++) {
                x = resnet(x, names.resnet(ENCODER, i, j), width, widths.get(i));
                width = widths.get(i);
            }
            if (i < blocks - 1) {
                // diffusers pads right and bottom by one, then convolves with stride 2 and no padding
                String padded = g.node("Pad", List.of(x, g.constantLongs("pads", 0, 0, 0, 0, 0, 0, 1, 1)));
                x = conv(padded, names.downsample(i), width, width, 3, 2, 0);
            }
        }
        refuseMore(names.resnet(ENCODER, blocks, 0), "down blocks");
        refuseMore(names.resnet(ENCODER, 0, settings.layersPerBlock()), "resnets per block");
        x = mid(x, width);
        x = silu(groupNorm(x, names.normOut(ENCODER), width));
        int moments = 2 * settings.latentChannels();
        x = conv(x, ENCODER + ".conv_out", width, moments, 3, 1);
        if (weights.has("quant_conv.weight")) {
            x = conv(x, "quant_conv", moments, moments, 1, 1);
        }
        g.identity(x, "latent_parameters");
        String scale = " / " + settings.downscale();
        g.output("latent_parameters", DataType.FLOAT, "batch_size", moments, "sample_height" + scale,
                "sample_width" + scale);
        return g.build();
    }

    private void prepareShapes() {
        int groups = settings.groups();
        groupShape = g.constantLongs("group_shape", 0, groups, -1);
        groupOnes = g.constant("group_ones", filled(groups, 1f), groups);
        groupZeros = g.constant("group_zeros", filled(groups, 0f), groups);
        flatPixelsShape = g.constantLongs("flat_pixels_shape", 0, 0, -1);
    }

    /** resnet, attention, resnet at the lowest resolution. */
    private String mid(String x, int width) throws EngineException {
        x = resnet(x, names.midResnet(side, 0), width, width);
        if (settings.midAttention()) {
            x = attention(x, width);
        }
        return resnet(x, names.midResnet(side, 1), width, width);
    }

    /** diffusers' ResnetBlock2D: conv2(silu(norm2(conv1(silu(norm1(x)))))) + x, x through a 1×1 conv where the width changes. */
    private String resnet(String x, String p, int in, int out) throws EngineException {
        String h = conv(silu(groupNorm(x, p + ".norm1", in)), p + ".conv1", in, out, 3, 1);
        h = conv(silu(groupNorm(h, p + ".norm2", out)), p + ".conv2", out, out, 3, 1);
        String shortcut = in == out ? x : conv(x, p + "." + names.shortcut(), in, out, 1, 0);
        return g.node("Add", List.of(shortcut, h));
    }

    /** Single-head self-attention over the h·w positions, scale 1/√C, with the residual added. */
    private String attention(String x, int width) throws EngineException {
        String h = groupNorm(x, names.attention(side, Attention.NORM), width);
        // [batch, C, h·w]
        String q = pixels(pointwise(h, names.attention(side, Attention.Q), width));
        String k = pixels(pointwise(h, names.attention(side, Attention.K), width));
        String v = pixels(pointwise(h, names.attention(side, Attention.V), width));
        String qT = g.node("Transpose", List.of(q), Attr.ints("perm", 0, 2, 1));
        String scaled = g.node("Mul", List.of(qT, g.scalar("scale", (float) (1 / Math.sqrt(width)))));
        String probs = g.node("Softmax", List.of(g.node("MatMul", List.of(scaled, k))), Attr.i("axis", -1));
        // [batch, h·w, C] = probs · vᵀ; only the C-wide tensors are transposed, never the h·w × h·w one
        String context = g.node("MatMul", List.of(probs, g.node("Transpose", List.of(v), Attr.ints("perm", 0, 2, 1))));
        context = g.node("Transpose", List.of(context), Attr.ints("perm", 0, 2, 1));
        context = g.node("Reshape", List.of(context, g.node("Shape", List.of(x))));
        String out = pointwise(context, names.attention(side, Attention.OUT), width);
        return g.node("Add", List.of(out, x));
    }

    private String pixels(String x) {
        return g.node("Reshape", List.of(x, flatPixelsShape));
    }

    /** A C→C projection applied at every pixel: stored as a 1×1 conv [C, C, 1, 1] (LDM) or a linear [C, C] (diffusers). */
    private String pointwise(String x, String name, int width) throws EngineException {
        WeightRef w = weights.require(name + ".weight");
        boolean matches = w.rank() == 2 ? Arrays.equals(w.shape(), new long[] {width, width})
                : Arrays.equals(w.shape(), new long[] {width, width, 1, 1});
        if (!matches) {
            throw mismatch(name + ".weight", w, "[" + width + ", " + width + "]");
        }
        return g.node("Conv", List.of(x, g.weight(name, view(w, width, width, 1, 1)), bias(name, width)));
    }

    /** GroupNorm: normalise each of the groups over its channels and pixels, then the per-channel affine. */
    private String groupNorm(String x, String name, int channels) throws EngineException {
        String grouped = g.node("Reshape", List.of(x, groupShape));
        String normed = g.node("InstanceNormalization", List.of(grouped, groupOnes, groupZeros),
                Attr.f("epsilon", NORM_EPS));
        normed = g.node("Reshape", List.of(normed, g.node("Shape", List.of(x))));
        WeightRef gamma = vector(name + ".weight", channels);
        WeightRef beta = vector(name + ".bias", channels);
        String scaled = g.node("Mul", List.of(normed, g.weight(name, view(gamma, channels, 1, 1))));
        return g.node("Add", List.of(scaled, g.weight(name + "_bias", view(beta, channels, 1, 1))));
    }

    private String silu(String x) {
        return g.node("Mul", List.of(x, g.node("Sigmoid", List.of(x))));
    }

    private String conv(String x, String name, int in, int out, int kernel, int padding) throws EngineException {
        return conv(x, name, in, out, kernel, 1, padding);
    }

    private String conv(String x, String name, int in, int out, int kernel, int stride, int padding)
            throws EngineException {
        WeightRef w = weights.require(name + ".weight");
        long[] expected = {out, in, kernel, kernel};
        if (!Arrays.equals(w.shape(), expected)) {
            throw mismatch(name + ".weight", w, Arrays.toString(expected));
        }
        return g.node("Conv", List.of(x, g.weight(name, w), bias(name, out)),
                Attr.ints("kernel_shape", kernel, kernel), Attr.ints("strides", stride, stride),
                Attr.ints("pads", padding, padding, padding, padding));
    }

    private String bias(String name, int channels) throws EngineException {
        return g.weight(name + "_bias", vector(name + ".bias", channels));
    }

    private WeightRef vector(String name, int channels) throws EngineException {
        WeightRef w = weights.require(name);
        if (w.rank() != 1 || w.dim(0) != channels) {
            throw mismatch(name, w, "[" + channels + "]");
        }
        return w;
    }

    /** A config with fewer blocks than the file would build a graph that silently skips some: refused. */
    private void refuseMore(String resnet, String what) throws EngineException {
        if (weights.has(resnet + ".conv1.weight")) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, weights.component().description() + " in "
                    + weights.folder() + " has '" + resnet + "', more " + what + " than its config ("
                    + settings.blockOutChannels() + " block channels, layers_per_block " + settings.layersPerBlock()
                    + ") says: the config belongs to another model.");
        }
    }

    private EngineException mismatch(String name, WeightRef w, String expected) {
        return new EngineException(Kind.INCOMPATIBLE_MODEL, weights.component().description() + " in "
                + weights.folder() + " has '" + name + "' shaped " + Arrays.toString(w.shape()) + ", but its config ("
                + settings.blockOutChannels() + " block channels, " + settings.latentChannels()
                + " latent channels) needs " + expected + ": the config belongs to another model.");
    }

    /** The same stored bytes read with another shape of as many elements. */
    private static WeightRef view(WeightRef w, long... shape) {
        return new WeightRef(w.file(), w.offset(), w.length(), w.dtype(), shape);
    }

    private static float[] filled(int n, float value) {
        float[] a = new float[n];
        Arrays.fill(a, value);
        return a;
    }
}
