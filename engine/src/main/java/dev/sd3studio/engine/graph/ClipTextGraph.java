package dev.sd3studio.engine.graph;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.checkpoint.Checkpoint;
import dev.sd3studio.engine.checkpoint.CheckpointComponent;
import dev.sd3studio.engine.checkpoint.ComponentWeights;
import dev.sd3studio.engine.checkpoint.WeightRef;
import dev.sd3studio.engine.onnx.ModelProto;
import dev.sd3studio.engine.onnx.TensorProto.DataType;

import java.util.List;

/**
 * The CLIP text encoder with projection (CLIP-L or CLIP-G) as transformers' {@code CLIPTextModelWithProjection}
 * computes it, built from a checkpoint's weights in place. Its interface is the one the exported encoders have
 * and {@code text.ClipTextEncoder} reads: input {@code input_ids} int64 [batch, sequence]; outputs
 * {@code text_embeds} [batch, projection], {@code last_hidden_state} and {@code hidden_states.0..N}
 * [batch, sequence, hidden] (0 is the embedding output, N the last layer's before the final LayerNorm).
 *
 * <p>Linear layers are Gemm with transB on a [batch·sequence, hidden] view, so the stored [out, in] weights are
 * used as they are, without a transposed copy.
 */
public final class ClipTextGraph {
    /** What no tensor shape says, from the component's {@code config.json}. */
    public record Settings(int layers, int heads, int hidden, String activation, float layerNormEps,
                           int maxPositions) {
        public static Settings of(JsonNode config, String source) throws EngineException {
            int layers = requireInt(config, "num_hidden_layers", source);
            int heads = requireInt(config, "num_attention_heads", source);
            int hidden = requireInt(config, "hidden_size", source);
            String act = config.path("hidden_act").asText("quick_gelu");
            if (!act.equals("quick_gelu") && !act.equals("gelu")) {
                throw new EngineException(Kind.INCOMPATIBLE_MODEL, source + " asks for the activation '" + act
                        + "'; SD3 Studio's CLIP supports quick_gelu and gelu.");
            }
            if (hidden % heads != 0) {
                throw new EngineException(Kind.INCOMPATIBLE_MODEL, source + " has hidden_size " + hidden
                        + ", which " + heads + " attention heads do not divide.");
            }
            return new Settings(layers, heads, hidden, act, (float) config.path("layer_norm_eps").asDouble(1e-5),
                    config.path("max_position_embeddings").asInt(77));
        }

        private static int requireInt(JsonNode config, String key, String source) throws EngineException {
            JsonNode n = config.path(key);
            if (!n.canConvertToInt() || n.asInt() <= 0) {
                throw new EngineException(Kind.CORRUPT_FILE, source + " has no positive '" + key + "'.");
            }
            return n.asInt();
        }
    }

    private static final String PREFIX = "text_model.";

    private final GraphBuilder g;
    private final ComponentWeights weights;
    private final Settings settings;
    /** [batch, sequence] as a 1-D int64 value, the head of every reshape back from the flat view. */
    private String batchAndSequence;
    /** The reshape targets, made once: [-1, hidden], [batch, sequence, hidden], [batch, sequence, heads, head size]. */
    private String flatShape;
    private String streamShape;
    private String headShape;

    private ClipTextGraph(ComponentWeights weights, Settings settings) {
        this.g = new GraphBuilder(weights.component().diffusersFolder(), weights.folder());
        this.weights = weights;
        this.settings = settings;
    }

    /** The graph of {@code component} (CLIP_L or CLIP_G) of an opened checkpoint, with its config and projection rule. */
    public static ModelProto build(Checkpoint checkpoint, CheckpointComponent component) throws EngineException {
        if (component != CheckpointComponent.CLIP_L && component != CheckpointComponent.CLIP_G) {
            throw new IllegalArgumentException(component + " is no CLIP text encoder");
        }
        var config = checkpoint.configs().require(component, checkpoint.source());
        boolean identity = component == CheckpointComponent.CLIP_L && checkpoint.clipLIdentityProjection();
        return build(checkpoint.require(component), Settings.of(config.json(), config.source()), identity);
    }

    /**
     * {@code identityProjection}: the pooled output is used unprojected (CLIP-L loaded from a single file or a
     * separate clip_l file, where diffusers and ComfyUI ignore any stored text_projection).
     */
    public static ModelProto build(ComponentWeights weights, Settings settings, boolean identityProjection)
            throws EngineException {
        return new ClipTextGraph(weights, settings).build(identityProjection);
    }

    private ModelProto build(boolean identityProjection) throws EngineException {
        int hidden = settings.hidden();
        WeightRef tokens = weights.require(PREFIX + "embeddings.token_embedding.weight");
        if (tokens.rank() != 2 || tokens.dim(1) != hidden) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, weights.component().description() + " in "
                    + weights.folder() + " has token embeddings " + tokens + ", but its config says hidden_size "
                    + hidden + ": the config belongs to another model.");
        }
        String ids = g.input("input_ids", DataType.INT64, "batch", "sequence");
        batchAndSequence = g.node("Shape", List.of(ids));
        String sequence = g.node("Shape", List.of(ids), Attr.i("start", 1), Attr.i("end", 2));
        String zero = g.constantLongs("zero", 0);
        flatShape = g.constantLongs("flat_shape", -1, hidden);
        streamShape = g.node("Concat", List.of(batchAndSequence, g.constantLongs("hidden", hidden)), Attr.i("axis", 0));
        headShape = g.node("Concat", List.of(batchAndSequence,
                g.constantLongs("heads", settings.heads(), hidden / settings.heads())), Attr.i("axis", 0));

        String x = g.gatherRows("token_embedding", tokens, ids);
        String positions = g.node("Slice", List.of(
                g.weight("position_embedding", weights.require(PREFIX + "embeddings.position_embedding.weight")),
                zero, sequence, zero));
        x = g.node("Add", List.of(x, positions));
        String mask = g.node("Slice", List.of(causalMask(), g.constantLongs("zeros", 0, 0),
                g.node("Concat", List.of(sequence, sequence), Attr.i("axis", 0)), g.constantLongs("axes", 0, 1)));

        output(x, "hidden_states.0", hidden);
        for (int i = 0; i < settings.layers(); i++) {
            x = layer(x, mask, PREFIX + "encoder.layers." + i + ".");
            output(x, "hidden_states." + (i + 1), hidden);
        }
        String last = layerNorm(x, PREFIX + "final_layer_norm");
        output(last, "last_hidden_state", hidden);

        // the pooled token is the first EOS, the largest id of these tokenizers (transformers' rule for eos_token_id 2)
        String eos = g.node("ArgMax", List.of(g.node("Cast", List.of(ids), Attr.i("to", DataType.INT32_VALUE))),
                Attr.i("axis", 1), Attr.i("keepdims", 1));
        String pooled = g.node("GatherND", List.of(last, eos), Attr.i("batch_dims", 1));
        long projected = hidden;
        if (!identityProjection) {
            WeightRef projection = weights.require("text_projection.weight");
            projected = projection.dim(0);
            pooled = g.moduleNode("text_projection", "Gemm", List.of(pooled, g.weight("text_projection", projection)),
                    Attr.i("transB", 1));
        }
        g.identity(pooled, "text_embeds");
        g.output("text_embeds", DataType.FLOAT, "batch", projected);
        return g.build();
    }

    private void output(String value, String outputName, long width) {
        g.identity(value, outputName);
        g.output(outputName, DataType.FLOAT, "batch", "sequence", width);
    }

    /** One pre-LayerNorm layer: x + attention(LN1(x)), then + MLP(LN2(·)). */
    private String layer(String x, String mask, String p) throws EngineException {
        int headSize = settings.hidden() / settings.heads();
        String flat = flat(layerNorm(x, p + "layer_norm1"));
        String q = heads(linear(flat, p + "self_attn.q_proj"), 0, 2, 1, 3);
        String k = heads(linear(flat, p + "self_attn.k_proj"), 0, 2, 3, 1); // [batch, heads, head size, sequence]
        String v = heads(linear(flat, p + "self_attn.v_proj"), 0, 2, 1, 3);
        // q is scaled before the product, as transformers does
        String scores = g.node("MatMul", List.of(g.node("Mul", List.of(q, g.scalar("scale",
                (float) (1 / Math.sqrt(headSize))))), k));
        String probs = g.node("Softmax", List.of(g.node("Add", List.of(scores, mask))), Attr.i("axis", -1));
        String context = g.node("Transpose", List.of(g.node("MatMul", List.of(probs, v))), Attr.ints("perm", 0, 2, 1, 3));
        String attention = linear(flat(context), p + "self_attn.out_proj");
        x = g.node("Add", List.of(x, unflat(attention)));

        String h = linear(flat(layerNorm(x, p + "layer_norm2")), p + "mlp.fc1");
        h = linear(activation(h), p + "mlp.fc2");
        return g.node("Add", List.of(x, unflat(h)));
    }

    private String heads(String flat, long... perm) {
        return g.node("Transpose", List.of(g.node("Reshape", List.of(flat, headShape))), Attr.ints("perm", perm));
    }

    private String activation(String h) {
        if (settings.activation().equals("quick_gelu")) {
            return g.node("Mul", List.of(h, g.node("Sigmoid", List.of(g.node("Mul", List.of(h, g.scalar("k", 1.702f)))))));
        }
        // exact gelu: x · (1 + erf(x / √2)) / 2
        String erf = g.node("Erf", List.of(g.node("Mul", List.of(h, g.scalar("inv_sqrt2", (float) (1 / Math.sqrt(2)))))));
        String onePlus = g.node("Add", List.of(erf, g.scalar("one", 1f)));
        return g.node("Mul", List.of(g.node("Mul", List.of(h, onePlus)), g.scalar("half", 0.5f)));
    }

    private String layerNorm(String x, String name) throws EngineException {
        return g.node("LayerNormalization", List.of(x, g.weight(name, weights.require(name + ".weight")),
                g.weight(name + "_bias", weights.require(name + ".bias"))),
                Attr.i("axis", -1), Attr.f("epsilon", settings.layerNormEps()));
    }

    private String linear(String flat, String name) throws EngineException {
        // named by its transformers module path (text_model.encoder.layers.N.self_attn.q_proj): LoRAs find it so
        return g.moduleNode(name, "Gemm", List.of(flat, g.weight(name, weights.require(name + ".weight")),
                g.weight(name + "_bias", weights.require(name + ".bias"))), Attr.i("transB", 1));
    }

    /** [batch, sequence, …] to [batch·sequence, hidden]. */
    private String flat(String x) {
        return g.node("Reshape", List.of(x, flatShape));
    }

    private String unflat(String x) {
        return g.node("Reshape", List.of(x, streamShape));
    }

    /** [max, max]: 0 on and below the diagonal, -inf above (a token sees only itself and earlier ones). */
    private String causalMask() {
        int n = settings.maxPositions();
        float[] mask = new float[n * n];
        for (int r = 0; r < n; r++) {
            for (int c = r + 1; c < n; c++) {
                mask[r * n + c] = Float.NEGATIVE_INFINITY;
            }
        }
        return g.constant("causal_mask", mask, n, n);
    }
}
