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

import java.util.Arrays;
import java.util.List;

/**
 * The T5 v1.1 encoder as transformers' {@code T5EncoderModel} computes it (SD3's text_encoder_3), built from a
 * checkpoint's weights in place. Its interface is the exported encoder's, which {@code text.T5TextEncoder} reads:
 * input {@code input_ids} int64 [batch, sequence], output {@code last_hidden_state} [batch, sequence, d_model].
 * There is no attention mask: SD3 pads the prompt to its maximum length and attends to the padding too.
 *
 * <p>T5 differs from CLIP in ways that are easy to get wrong: RMSNorm (no mean, no bias), no 1/√d scaling of
 * the attention scores, a learned per-head bias indexed by a bucket of the relative position (block 0's table,
 * shared by every block), bias-free linear layers and a gated tanh-GELU feed-forward. Linear layers are Gemm
 * with transB on a [batch·sequence, width] view, so the stored [out, in] weights are used as they are.
 */
public final class T5EncoderGraph {
    /** What no tensor shape says, from the component's {@code config.json}. */
    public record Settings(int layers, int heads, int dModel, int dKv, int dFf, int buckets, int maxDistance,
                           float layerNormEps) {
        public static Settings of(JsonNode config, String source) throws EngineException {
            String proj = config.path("feed_forward_proj").asText("relu");
            if (!proj.equals("gated-gelu")) {
                throw new EngineException(Kind.INCOMPATIBLE_MODEL, source + " asks for the feed-forward '" + proj
                        + "'; SD3 Studio's T5 supports T5 v1.1's gated-gelu (the T5-XXL encoder SD3 uses).");
            }
            Settings s = new Settings(requireInt(config, "num_layers", source), requireInt(config, "num_heads", source),
                    requireInt(config, "d_model", source), requireInt(config, "d_kv", source),
                    requireInt(config, "d_ff", source), requireInt(config, "relative_attention_num_buckets", source),
                    requireInt(config, "relative_attention_max_distance", source),
                    (float) config.path("layer_norm_epsilon").asDouble(1e-6));
            // half the buckets per direction, half of those exact: the logarithmic range must have room
            if (s.buckets % 2 != 0 || s.buckets < 4 || s.maxDistance <= s.buckets / 4) {
                throw new EngineException(Kind.INCOMPATIBLE_MODEL, source + " has " + s.buckets
                        + " relative attention buckets for a maximum distance of " + s.maxDistance
                        + "; T5 needs an even count of at least 4 and a distance beyond a quarter of it.");
            }
            return s;
        }

        public int inner() {
            return heads * dKv;
        }

        private static int requireInt(JsonNode config, String key, String source) throws EngineException {
            JsonNode n = config.path(key);
            if (!n.canConvertToInt() || n.asInt() <= 0) {
                throw new EngineException(Kind.CORRUPT_FILE, source + " has no positive '" + key + "'.");
            }
            return n.asInt();
        }
    }

    private static final String BLOCK = "encoder.block.";

    private final GraphBuilder g;
    private final ComponentWeights weights;
    private final Settings settings;
    /** The reshape targets, made once: [-1, d_model], [-1, inner], [batch, sequence, d_model], [batch, sequence, heads, d_kv]. */
    private String flatShape;
    private String flatInnerShape;
    private String streamShape;
    private String headShape;
    private String lastAxis;
    private String epsilon;

    private T5EncoderGraph(ComponentWeights weights, Settings settings) {
        this.g = new GraphBuilder(weights.component().diffusersFolder(), weights.folder());
        this.weights = weights;
        this.settings = settings;
    }

    /** The graph of an opened checkpoint's T5 encoder, with its config. */
    public static ModelProto build(Checkpoint checkpoint) throws EngineException {
        ComponentWeights t5 = checkpoint.require(CheckpointComponent.T5);
        var config = checkpoint.configs().require(CheckpointComponent.T5, checkpoint.source());
        return build(t5, Settings.of(config.json(), config.source()));
    }

    public static ModelProto build(ComponentWeights weights, Settings settings) throws EngineException {
        return new T5EncoderGraph(weights, settings).build();
    }

    private ModelProto build() throws EngineException {
        int dModel = settings.dModel();
        // the encoder's own embedding is the shared one (tied), and files often keep only shared.weight
        WeightRef tokens = weights.find("encoder.embed_tokens.weight").orElse(null);
        if (tokens == null) {
            tokens = weights.require("shared.weight");
        }
        requireShape(tokens, "token embeddings", "d_model " + dModel, -1, dModel);
        WeightRef positionBias = weights.require(BLOCK + "0.layer.0.SelfAttention.relative_attention_bias.weight");
        requireShape(positionBias, "relative attention bias", "relative_attention_num_buckets " + settings.buckets()
                + " and num_heads " + settings.heads(), settings.buckets(), settings.heads());

        String ids = g.input("input_ids", DataType.INT64, "batch", "sequence");
        String batchAndSequence = g.node("Shape", List.of(ids));
        flatShape = g.constantLongs("flat_shape", -1, dModel);
        flatInnerShape = g.constantLongs("flat_inner_shape", -1, settings.inner());
        streamShape = g.node("Concat", List.of(batchAndSequence, g.constantLongs("d_model", dModel)), Attr.i("axis", 0));
        headShape = g.node("Concat", List.of(batchAndSequence,
                g.constantLongs("heads", settings.heads(), settings.dKv())), Attr.i("axis", 0));
        lastAxis = g.constantLongs("last_axis", -1);
        epsilon = g.scalar("epsilon", settings.layerNormEps());

        String x = g.gatherRows("token_embedding", tokens, ids);
        String bias = positionBias(ids, g.weight("relative_attention_bias", positionBias));
        for (int i = 0; i < settings.layers(); i++) {
            x = block(x, bias, BLOCK + i + ".");
        }
        String last = rmsNorm(x, "encoder.final_layer_norm");
        g.identity(last, "last_hidden_state");
        g.output("last_hidden_state", DataType.FLOAT, "batch", "sequence", (long) dModel);
        return g.build();
    }

    /** One pre-norm block: x + attention(RMS(x)), then + feed-forward(RMS(·)). */
    private String block(String x, String positionBias, String p) throws EngineException {
        String flat = flat(rmsNorm(x, p + "layer.0.layer_norm"));
        String a = p + "layer.0.SelfAttention.";
        String q = heads(linear(flat, a + "q", settings.inner(), settings.dModel()), 0, 2, 1, 3);
        String k = heads(linear(flat, a + "k", settings.inner(), settings.dModel()), 0, 2, 3, 1); // [batch, heads, d_kv, sequence]
        String v = heads(linear(flat, a + "v", settings.inner(), settings.dModel()), 0, 2, 1, 3);
        // T5 folds the 1/√d_kv scale into its trained q weights: the scores are the plain products
        String scores = g.node("Add", List.of(g.node("MatMul", List.of(q, k)), positionBias));
        String probs = g.node("Softmax", List.of(scores), Attr.i("axis", -1));
        String context = g.node("Transpose", List.of(g.node("MatMul", List.of(probs, v))), Attr.ints("perm", 0, 2, 1, 3));
        String attention = linear(g.node("Reshape", List.of(context, flatInnerShape)), a + "o",
                settings.dModel(), settings.inner());
        x = g.node("Add", List.of(x, unflat(attention)));

        String f = p + "layer.1.DenseReluDense.";
        String h = flat(rmsNorm(x, p + "layer.1.layer_norm"));
        String gate = g.node("Gelu", List.of(linear(h, f + "wi_0", settings.dFf(), settings.dModel())),
                Attr.s("approximate", "tanh")); // transformers' gelu_new
        String up = linear(h, f + "wi_1", settings.dFf(), settings.dModel());
        String down = linear(g.node("Mul", List.of(gate, up)), f + "wo", settings.dModel(), settings.dFf());
        return g.node("Add", List.of(x, unflat(down)));
    }

    /**
     * [heads, sequence, sequence]: the learned bias of each query/key pair's relative-position bucket. The
     * bucket depends on key − query only, and is the same for every distance of at least max_distance, so the
     * distance is clamped to ±max_distance and looked up in a table of 2·max_distance + 1 buckets: any length works.
     */
    private String positionBias(String ids, String table) {
        int reach = settings.maxDistance();
        String sequence = g.node("Shape", List.of(ids), Attr.i("start", 1), Attr.i("end", 2));
        // Range takes scalars: the one-element vectors are squeezed to rank 0
        String positions = g.node("Range", List.of(g.node("Squeeze", List.of(g.constantLongs("zero", 0))),
                g.node("Squeeze", List.of(sequence)), g.node("Squeeze", List.of(g.constantLongs("one", 1)))));
        String keys = g.node("Unsqueeze", List.of(positions, g.constantLongs("row_axis", 0)));
        String queries = g.node("Unsqueeze", List.of(positions, g.constantLongs("column_axis", 1)));
        String distance = g.node("Sub", List.of(keys, queries)); // [query, key]: key − query
        distance = g.node("Min", List.of(g.node("Max", List.of(distance, g.constantLongs("min_distance", -reach))),
                g.constantLongs("max_distance", reach)));
        String index = g.node("Add", List.of(distance, g.constantLongs("offset", reach)));
        String buckets = g.node("Gather", List.of(g.constantLongs("buckets", bucketTable(settings)), index));
        String bias = g.node("Gather", List.of(table, buckets)); // [query, key, heads]
        return g.node("Transpose", List.of(bias), Attr.ints("perm", 2, 0, 1));
    }

    /**
     * The bucket of each distance −max_distance..max_distance (index distance + max_distance), by transformers'
     * bidirectional rule: half the buckets for keys after the query; within a half, distances below a quarter
     * of the buckets have one each, longer ones share logarithmically wider buckets up to max_distance. The
     * logarithm is evaluated in float32 steps as torch does, so a distance on a bucket edge lands where torch puts it.
     */
    static long[] bucketTable(Settings settings) {
        int reach = settings.maxDistance();
        int half = settings.buckets() / 2;
        int exact = half / 2;
        float logSpan = (float) Math.log((double) reach / exact);
        long[] table = new long[2 * reach + 1];
        for (int d = -reach; d <= reach; d++) {
            int n = Math.abs(d);
            long bucket;
            if (n < exact) {
                bucket = n;
            } else {
                float ratio = (float) n / exact;
                float scaled = (float) Math.log(ratio) / logSpan * (half - exact);
                bucket = Math.min(exact + (long) scaled, half - 1);
            }
            table[d + reach] = (d > 0 ? half : 0) + bucket;
        }
        return table;
    }

    private String heads(String flat, long... perm) {
        return g.node("Transpose", List.of(g.node("Reshape", List.of(flat, headShape))), Attr.ints("perm", perm));
    }

    /** T5's RMSNorm: x / √(mean(x²) + ε) · weight, with no mean subtracted and no bias. */
    private String rmsNorm(String x, String name) throws EngineException {
        WeightRef w = weights.require(name + ".weight");
        requireShape(w, "norm weight " + name, "d_model " + settings.dModel(), settings.dModel());
        String meanSquare = g.node("ReduceMean", List.of(g.node("Mul", List.of(x, x)), lastAxis), Attr.i("keepdims", 1));
        String normed = g.node("Div", List.of(x, g.node("Sqrt", List.of(g.node("Add", List.of(meanSquare, epsilon))))));
        return g.node("Mul", List.of(normed, g.weight(name, w)));
    }

    private String linear(String flat, String name, long out, long in) throws EngineException {
        WeightRef w = weights.require(name + ".weight");
        requireShape(w, name, "its config", out, in);
        // named by its transformers module path (encoder.block.N.layer.0.SelfAttention.q): LoRAs find it so
        return g.moduleNode(name, "Gemm", List.of(flat, g.weight(name, w)), Attr.i("transB", 1));
    }

    /** [batch, sequence, d_model] to [batch·sequence, d_model]. */
    private String flat(String x) {
        return g.node("Reshape", List.of(x, flatShape));
    }

    private String unflat(String x) {
        return g.node("Reshape", List.of(x, streamShape));
    }

    /** {@code dims}: the expected shape, -1 for any size. */
    private void requireShape(WeightRef w, String what, String configSays, long... dims) throws EngineException {
        boolean fits = w.rank() == dims.length;
        for (int i = 0; fits && i < dims.length; i++) {
            fits = dims[i] < 0 || w.dim(i) == dims[i];
        }
        if (!fits) {
            throw new EngineException(Kind.INCOMPATIBLE_MODEL, weights.component().description() + " in "
                    + weights.folder() + " has " + what + " of shape " + Arrays.toString(w.shape())
                    + ", but its config (" + configSays + ") needs " + Arrays.toString(dims).replace("-1", "any")
                    + ": the config belongs to another model.");
        }
    }
}
