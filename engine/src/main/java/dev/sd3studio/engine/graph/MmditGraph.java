package dev.sd3studio.engine.graph;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.checkpoint.Checkpoint;
import dev.sd3studio.engine.checkpoint.CheckpointComponent;
import dev.sd3studio.engine.checkpoint.ComponentWeights;
import dev.sd3studio.engine.checkpoint.WeightRef;
import dev.sd3studio.engine.graph.MmditWeights.Linear;
import dev.sd3studio.engine.graph.MmditWeights.Path;
import dev.sd3studio.engine.lora.OnnxWeights;
import dev.sd3studio.engine.onnx.ModelProto;
import dev.sd3studio.engine.onnx.TensorProto.DataType;
import dev.sd3studio.engine.runtime.SkipLayerGraph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The SD3 / SD3.5 MMDiT as diffusers' {@code SD3Transformer2DModel} computes it, built from a checkpoint's weights
 * in place. Its interface is the one of the exported transformer the pipeline already runs: inputs
 * {@code hidden_states} [batch, channels, height, width], {@code encoder_hidden_states} [batch, sequence, width],
 * {@code pooled_projections} [batch, pooled], {@code timestep} [batch] (σ·1000, a float), all float32; output
 * {@code out_hidden_states} [batch, channels, height, width]. The skippable variant has {@link SkipLayerGraph}'s
 * extra input with its meaning: {@value SkipLayerGraph#INPUT} float32 [blocks], 1 bypasses a block (both its
 * streams pass through unchanged).
 *
 * <p>Streams are [batch, tokens, hidden]; every linear layer is a Gemm with transB on a [batch·tokens, hidden]
 * view, so the stored [out, in] weights are used as they are. Modulations are cut into their chunks by referencing
 * row ranges of the stored tensor, one Gemm per chunk, which also puts the original layout's (shift, scale) pairs
 * in diffusers' order without a copy.
 */
public final class MmditGraph {
    /** diffusers' {@code Timesteps(256, flip_sin_to_cos=True, downscale_freq_shift=0)}. */
    private static final int TIMESTEP_CHANNELS = 256;
    private static final float EPS = 1e-6f;

    /** What no tensor shape says, from the transformer's {@code config.json}. */
    public record Settings(int layers, int heads, int headDim, int patchSize, int posEmbedMaxSize, boolean qkNorm,
                           Set<Integer> dualAttentionLayers) {
        public Settings {
            dualAttentionLayers = Set.copyOf(dualAttentionLayers);
        }

        public int hidden() {
            return heads * headDim;
        }

        public static Settings of(JsonNode config, String source) throws EngineException {
            int layers = requireInt(config, "num_layers", source);
            int heads = requireInt(config, "num_attention_heads", source);
            int headDim = requireInt(config, "attention_head_dim", source);
            int patch = requireInt(config, "patch_size", source);
            int posMax = requireInt(config, "pos_embed_max_size", source);
            JsonNode qk = config.path("qk_norm");
            boolean qkNorm = !qk.isMissingNode() && !qk.isNull();
            if (qkNorm && !qk.asText().equals("rms_norm")) {
                throw new EngineException(Kind.INCOMPATIBLE_MODEL, source + " asks for the QK-norm '" + qk.asText()
                        + "'; SD3 Studio's MMDiT supports rms_norm (SD3.5) or none (SD3).");
            }
            Set<Integer> dual = new TreeSet<>();
            for (JsonNode n : config.path("dual_attention_layers")) {
                if (!n.canConvertToInt() || n.asInt() < 0 || n.asInt() >= layers) {
                    throw new EngineException(Kind.CORRUPT_FILE, source + " lists " + n + " among dual_attention_layers,"
                            + " which is no block of its " + layers + ".");
                }
                dual.add(n.asInt());
            }
            return new Settings(layers, heads, headDim, patch, posMax, qkNorm, dual);
        }

        private static int requireInt(JsonNode config, String key, String source) throws EngineException {
            JsonNode n = config.path(key);
            if (!n.canConvertToInt() || n.asInt() <= 0) {
                throw new EngineException(Kind.CORRUPT_FILE, source + " has no positive '" + key + "'.");
            }
            return n.asInt();
        }
    }

    private final GraphBuilder g;
    private final MmditWeights weights;
    private final Settings settings;
    private final long hidden;
    /** Reshape targets, made once: [-1, hidden], [batch, -1, hidden], [batch, -1, heads, head size]. */
    private String flatShape;
    private String streamShape;
    private String headShape;
    /** SiLU of the conditioning embedding [batch, hidden], the input of every modulation. */
    private String conditioning;
    /** LayerNorm's scale without affine parameters: ones [hidden]. */
    private String ones;
    /** Small constants used in every block, made once: 1, [1] (axis 1), 1/√(head size). */
    private String one;
    private String axis1;

    private MmditGraph(ComponentWeights weights, Settings settings) {
        this.g = new GraphBuilder(weights.component().diffusersFolder(), weights.folder());
        this.weights = new MmditWeights(weights, settings.hidden());
        this.settings = settings;
        this.hidden = settings.hidden();
    }

    /** The transformer of an opened checkpoint, with its config; {@code skippableBlocks} adds the bypass input. */
    public static ModelProto build(Checkpoint checkpoint, boolean skippableBlocks) throws EngineException {
        var config = checkpoint.configs().require(CheckpointComponent.TRANSFORMER, checkpoint.source());
        return build(checkpoint.require(CheckpointComponent.TRANSFORMER), Settings.of(config.json(), config.source()),
                skippableBlocks);
    }

    public static ModelProto build(ComponentWeights weights, Settings settings, boolean skippableBlocks)
            throws EngineException {
        return new MmditGraph(weights, settings).build(skippableBlocks);
    }

    private ModelProto build(boolean skippableBlocks) throws EngineException {
        WeightRef patchWeight = weights.patchEmbedWeight();
        checkShapes(patchWeight);
        long inChannels = patchWeight.dim(1);
        int p = settings.patchSize();
        Linear projOut = weights.projOut();
        if (projOut.out() % ((long) p * p) != 0 || projOut.in() != hidden) {
            throw incompatible("has an output projection " + projOut.weight() + ", which does not map width " + hidden
                    + " to whole " + p + "×" + p + " patches");
        }
        long outChannels = projOut.out() / ((long) p * p);
        Linear contextEmbedder = weights.contextEmbedder();
        if (contextEmbedder.out() != hidden) {
            throw incompatible("has a context embedder " + contextEmbedder.weight() + ", which does not give width " + hidden);
        }
        Linear pooled1 = weights.pooled(1);

        String latent = g.input("hidden_states", DataType.FLOAT, "batch_size", inChannels, "height", "width");
        String context = g.input("encoder_hidden_states", DataType.FLOAT, "batch_size", "sequence_length",
                contextEmbedder.in());
        String pooledIn = g.input("pooled_projections", DataType.FLOAT, "batch_size", pooled1.in());
        String timestep = g.input("timestep", DataType.FLOAT, "step");
        String skipFlags = skippableBlocks
                ? g.node("Cast", List.of(g.input(SkipLayerGraph.INPUT, DataType.FLOAT, (long) settings.layers())),
                Attr.i("to", DataType.BOOL_VALUE))
                : null;

        String batch = g.node("Shape", List.of(latent), Attr.i("start", 0), Attr.i("end", 1));
        flatShape = g.constantLongs("flat_shape", -1, hidden);
        streamShape = g.node("Concat", List.of(batch, g.constantLongs("tokens_hidden", -1, hidden)), Attr.i("axis", 0));
        headShape = g.node("Concat", List.of(batch, g.constantLongs("tokens_heads", -1, settings.heads(), settings.headDim())),
                Attr.i("axis", 0));
        ones = g.constant("ones", filled((int) hidden, 1f), hidden);
        one = g.scalar("one", 1f);
        axis1 = g.constantLongs("axis1", 1);

        // patches [batch, hidden, h, w] → [batch, h, w, hidden] + the centre crop of the positional table
        String patches = g.node("Conv", List.of(latent, g.weight("patch_embed", patchWeight),
                        g.weight("patch_embed_bias", weights.patchEmbedBias())),
                Attr.ints("kernel_shape", p, p), Attr.ints("strides", p, p));
        String patchGrid = g.node("Shape", List.of(patches), Attr.i("start", 2), Attr.i("end", 4));
        String x = g.node("Add", List.of(g.node("Transpose", List.of(patches), Attr.ints("perm", 0, 2, 3, 1)),
                croppedPositions(patchGrid)));
        x = g.node("Reshape", List.of(x, streamShape));

        String c = unflat(linear(flat(context, contextEmbedder.in()), contextEmbedder));
        String temb = g.node("Add", List.of(
                mlp2(timestepProjection(timestep), weights.timestep(1), weights.timestep(2)),
                mlp2(pooledIn, pooled1, weights.pooled(2))));
        conditioning = silu(temb);

        for (int i = 0; i < settings.layers(); i++) {
            boolean last = i == settings.layers() - 1;
            String[] out = block(i, x, c, last);
            if (skipFlags != null) {
                String skip = g.node("Gather", List.of(skipFlags, g.constantLongs("block_index", i)));
                out[0] = g.node("Where", List.of(skip, x, out[0]));
                out[1] = last ? null : g.node("Where", List.of(skip, c, out[1]));
            }
            x = out[0];
            c = out[1];
        }

        List<Linear> scaleShift = weights.finalModulation();
        x = modulate(layerNorm(x), chunk(scaleShift.get(0)), chunk(scaleShift.get(1)));
        String patchesOut = linear(flat(x), projOut);
        // [batch·h·w, p·p·C] → [batch, h, w, p, p, C] → [batch, C, h, p, w, p] → [batch, C, h·p, w·p]
        String unpatchShape = g.node("Concat", List.of(batch, patchGrid, g.constantLongs("patch_channels", p, p, outChannels)),
                Attr.i("axis", 0));
        String image = g.node("Transpose", List.of(g.node("Reshape", List.of(patchesOut, unpatchShape))),
                Attr.ints("perm", 0, 5, 1, 3, 2, 4));
        String imageShape = g.node("Concat", List.of(batch, g.constantLongs("channels", outChannels),
                g.node("Mul", List.of(patchGrid, g.constantLongs("patch", p)))), Attr.i("axis", 0));
        g.identity(g.node("Reshape", List.of(image, imageShape)), "out_hidden_states");
        g.output("out_hidden_states", DataType.FLOAT, "batch_size", outChannels, "height", "width");
        return g.build();
    }

    /** The shapes the graph relies on, against the config: a config of another model is named, not run. */
    private void checkShapes(WeightRef patchWeight) throws EngineException {
        int p = settings.patchSize();
        if (patchWeight.rank() != 4 || patchWeight.dim(2) != p || patchWeight.dim(3) != p) {
            throw incompatible("has a patch embedding " + patchWeight + ", but its config says patch_size " + p);
        }
        long width = patchWeight.dim(0);
        if (width % settings.heads() != 0) {
            throw incompatible("has width " + width + ", which " + settings.heads()
                    + " attention heads (num_attention_heads) do not divide");
        }
        if (width != hidden) {
            throw incompatible("has width " + width + ", but its config says " + settings.heads() + " heads of "
                    + settings.headDim() + " (" + hidden + ")");
        }
        WeightRef table = weights.positionTable();
        long m = settings.posEmbedMaxSize();
        if (table.rank() != 3 || table.dim(0) != 1 || table.dim(1) != m * m || table.dim(2) != hidden) {
            throw incompatible("has a positional table " + table + ", but its config says pos_embed_max_size " + m
                    + " and width " + hidden + " (1 × " + m * m + " × " + hidden + ")");
        }
        Linear t1 = weights.timestep(1);
        if (t1.in() != TIMESTEP_CHANNELS || t1.out() != hidden) {
            throw incompatible("has a timestep embedding " + t1.weight() + ", not " + TIMESTEP_CHANNELS + " → " + hidden);
        }
        if (!weights.hasBlock(settings.layers() - 1) || weights.hasBlock(settings.layers())) {
            throw incompatible("does not have the " + settings.layers() + " blocks its config's num_layers says");
        }
        for (int i = 0; i < settings.layers(); i++) {
            if (weights.hasQkNorm(i) != settings.qkNorm()) {
                throw incompatible((settings.qkNorm() ? "lacks" : "has") + " the QK-norm of block " + i
                        + ", but its config says qk_norm " + (settings.qkNorm() ? "rms_norm" : "none"));
            }
            if (weights.hasDualAttention(i) != settings.dualAttentionLayers().contains(i)) {
                throw incompatible((weights.hasDualAttention(i) ? "has" : "lacks") + " a second attention in block " + i
                        + ", but its config's dual_attention_layers is " + new TreeSet<>(settings.dualAttentionLayers()));
            }
        }
    }

    private EngineException incompatible(String what) {
        return new EngineException(Kind.INCOMPATIBLE_MODEL, weights.description() + " " + what
                + ": the config belongs to another model. Use the config folder of this model.");
    }

    /** The rows of the [max, max] positional grid centred on the [h, w] patch grid, as [h, w, hidden]. */
    private String croppedPositions(String patchGrid) throws EngineException {
        long m = settings.posEmbedMaxSize();
        WeightRef table = weights.positionTable();
        String grid = g.node("Reshape", List.of(g.storedForSlicing("pos_embed", table),
                g.constantLongs("pos_grid", m, m, hidden)));
        // (max - size) / 2 for both axes: non-negative, so ONNX's truncating division floors as diffusers does
        String start = g.node("Div", List.of(g.node("Sub", List.of(g.constantLongs("max", m, m), patchGrid)),
                g.constantLongs("two", 2, 2)));
        String end = g.node("Add", List.of(start, patchGrid));
        return g.widenSlice(g.node("Slice", List.of(grid, start, end, g.constantLongs("grid_axes", 0, 1))), table);
    }

    /** The sinusoidal embedding [batch, 256] of the float timestep: cos then sin, frequencies 10000^(-i/128). */
    private String timestepProjection(String timestep) {
        int half = TIMESTEP_CHANNELS / 2;
        float[] freqs = new float[half];
        float logMax = (float) -Math.log(10000);
        for (int i = 0; i < half; i++) {
            // float32 steps as torch takes them: exp(-ln(10000) · i / half)
            freqs[i] = (float) Math.exp(logMax * i / half);
        }
        String args = g.node("Mul", List.of(g.node("Unsqueeze", List.of(timestep, axis1)),
                g.constant("timestep_freqs", freqs, 1, half)));
        return g.node("Concat", List.of(g.node("Cos", List.of(args)), g.node("Sin", List.of(args))), Attr.i("axis", 1));
    }

    /** linear → SiLU → linear on a [batch, features] value. */
    private String mlp2(String in, Linear first, Linear second) throws EngineException {
        if (first.out() != hidden || second.in() != hidden || second.out() != hidden) {
            throw incompatible("has " + first.name() + " " + first.weight() + " and " + second.name() + " "
                    + second.weight() + ", not two layers to width " + hidden);
        }
        return linear(silu(linear(in, first)), second);
    }

    /**
     * One joint block on image stream {@code x} and context stream {@code c}; returns the new (x, c), c null for the
     * last block, whose context only feeds the image's attention ({@code context_pre_only}).
     */
    private String[] block(int i, String x, String c, boolean last) throws EngineException {
        boolean dual = settings.dualAttentionLayers().contains(i);
        // shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp(, shift_msa2, scale_msa2, gate_msa2)
        List<String> m = chunks(weights.imageModulation(i, dual ? 9 : 6));
        String xNormed = layerNorm(x);
        String xIn = modulate(xNormed, m.get(1), m.get(0));
        String cIn;
        List<String> cm = null;
        if (last) {
            List<String> scaleShift = chunks(weights.contextModulation(i, true));
            cIn = modulate(layerNorm(c), scaleShift.get(0), scaleShift.get(1));
        } else {
            cm = chunks(weights.contextModulation(i, false));
            cIn = modulate(layerNorm(c), cm.get(1), cm.get(0));
        }

        // joint attention over image tokens then context tokens
        String imageTokens = g.node("Shape", List.of(x), Attr.i("start", 1), Attr.i("end", 2));
        String contextTokens = g.node("Shape", List.of(c), Attr.i("start", 1), Attr.i("end", 2));
        List<String> qx = projectHeads(xIn, i, Path.IMAGE);
        List<String> qc = projectHeads(cIn, i, Path.CONTEXT);
        List<String> joint = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            joint.add(g.node("Concat", List.of(qx.get(k), qc.get(k)), Attr.i("axis", 1)));
        }
        String attended = attention(joint);
        List<String> parts = g.nodeWithOutputs("Split", List.of(attended,
                g.node("Concat", List.of(imageTokens, contextTokens), Attr.i("axis", 0))), 2, Attr.i("axis", 1));

        x = residual(x, m.get(2), linear(flat(parts.get(0)), weights.attentionOut(i, Path.IMAGE)));
        if (dual) {
            String xIn2 = modulate(xNormed, m.get(7), m.get(6));
            String self = attention(projectHeads(xIn2, i, Path.IMAGE2));
            x = residual(x, m.get(8), linear(flat(self), weights.attentionOut(i, Path.IMAGE2)));
        }
        x = residual(x, m.get(5), feedForward(modulate(layerNorm(x), m.get(4), m.get(3)), i, false));
        if (last) {
            return new String[] {x, null};
        }
        c = residual(c, cm.get(2), linear(flat(parts.get(1)), weights.attentionOut(i, Path.CONTEXT)));
        c = residual(c, cm.get(5), feedForward(modulate(layerNorm(c), cm.get(4), cm.get(3)), i, true));
        return new String[] {x, c};
    }

    /** q, k, v of one path as [batch, tokens, heads, head size], q and k RMS-normed when the model has QK-norm. */
    private List<String> projectHeads(String stream, int block, Path path) throws EngineException {
        List<Linear> qkv = weights.qkv(block, path);
        String flat = flat(stream);
        List<String> out = new ArrayList<>();
        List<WeightRef> norms = settings.qkNorm() ? weights.qkNorm(block, path) : List.of();
        for (int k = 0; k < 3; k++) {
            String h = g.node("Reshape", List.of(linear(flat, qkv.get(k)), headShape));
            out.add(k < 2 && settings.qkNorm() ? rmsNorm(h, norms.get(k), qkv.get(k).name() + "_norm") : h);
        }
        return out;
    }

    /**
     * Scaled dot-product attention of [batch, tokens, heads, head size] q, k, v; returns [batch, tokens, hidden].
     * ONNX Runtime's MultiHeadAttention (scale 1/√head size, no mask) computes it on the CPU without holding the
     * [batch, heads, tokens, tokens] scores (flash attention, in blocks): at 512² with guidance, SD3.5 Large's
     * are 0.4 GB, held twice (scores and softmax) when written as MatMul, Softmax, MatMul.
     */
    private String attention(List<String> qkv) {
        List<String> flat = qkv.stream().map(h -> g.node("Reshape", List.of(h, streamShape))).toList();
        return g.microsoftNode("MultiHeadAttention", flat, Attr.i("num_heads", settings.heads()));
    }

    /** Image ({@code context} false) or context MLP: linear → tanh-approximated GELU → linear. */
    private String feedForward(String stream, int block, boolean context) throws EngineException {
        String h = linear(flat(stream), weights.mlp(block, context, 1));
        h = g.node("Gelu", List.of(h), Attr.s("approximate", "tanh"));
        return linear(h, weights.mlp(block, context, 2));
    }

    /** stream + gate · update, the update flat [batch·tokens, hidden]. */
    private String residual(String stream, String gate, String flatUpdate) {
        return g.node("Add", List.of(stream, g.node("Mul", List.of(gate, unflat(flatUpdate)))));
    }

    /** normed · (1 + scale) + shift, scale and shift [batch, 1, hidden]. */
    private String modulate(String normed, String scale, String shift) {
        String onePlus = g.node("Add", List.of(scale, one));
        return g.node("Add", List.of(g.node("Mul", List.of(normed, onePlus)), shift));
    }

    /** Each chunk of a modulation as [batch, 1, hidden]. */
    private List<String> chunks(List<Linear> parts) {
        List<String> out = new ArrayList<>();
        for (Linear part : parts) {
            out.add(chunk(part));
        }
        return out;
    }

    private String chunk(Linear part) {
        return g.node("Unsqueeze", List.of(linear(conditioning, part), axis1));
    }

    /** LayerNorm over the last axis without affine parameters (eps 1e-6). */
    private String layerNorm(String x) {
        return g.node("LayerNormalization", List.of(x, ones), Attr.i("axis", -1), Attr.f("epsilon", EPS));
    }

    /** x / √(mean(x²) + eps) · weight over the last axis (diffusers' RMSNorm, eps 1e-6). */
    private String rmsNorm(String x, WeightRef weight, String name) throws EngineException {
        if (weight.rank() != 1 || weight.dim(0) != settings.headDim()) {
            throw incompatible("has a QK-norm weight " + weight + ", but its config says head size " + settings.headDim());
        }
        String meanSquare = g.node("ReduceMean", List.of(g.node("Mul", List.of(x, x)), g.constantLongs("last_axis", -1)),
                Attr.i("keepdims", 1));
        String rms = g.node("Sqrt", List.of(g.node("Add", List.of(meanSquare, g.scalar("eps", EPS)))));
        return g.node("Mul", List.of(g.node("Div", List.of(x, rms)), g.weight(name, weight)));
    }

    private String silu(String x) {
        return g.node("Mul", List.of(x, g.node("Sigmoid", List.of(x))));
    }

    /** A Gemm named by the layer's diffusers module path where it has one, so that LoRAs find it (GraphBuilder#moduleNode). */
    private String linear(String flat, Linear l) {
        List<String> in = List.of(flat, g.weight(l.name(), l.weight()), g.weight(l.name() + "_bias", l.bias()));
        if (l.module() == null) {
            return g.node("Gemm", in, Attr.i("transB", 1));
        }
        // a modulation chunk says which rows of its module it holds, so a LoRA on the whole module reaches each
        String rows = l.firstRow() < 0 ? "" : OnnxWeights.FIRST_ROW_MARK + l.firstRow();
        return g.moduleNode(l.module(), "Gemm", rows, in, Attr.i("transB", 1));
    }

    /** [batch, tokens, hidden] to [batch·tokens, hidden]. */
    private String flat(String x) {
        return g.node("Reshape", List.of(x, flatShape));
    }

    private String flat(String x, long width) {
        return width == hidden ? flat(x) : g.node("Reshape", List.of(x, g.constantLongs("flat_input", -1, width)));
    }

    private String unflat(String x) {
        return g.node("Reshape", List.of(x, streamShape));
    }

    private static float[] filled(int n, float value) {
        float[] a = new float[n];
        Arrays.fill(a, value);
        return a;
    }
}
