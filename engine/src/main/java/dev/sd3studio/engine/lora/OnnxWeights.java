package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.format.ElementDecoder;
import dev.sd3studio.engine.format.ExternalDataFile;
import dev.sd3studio.engine.format.ProtoFields;
import dev.sd3studio.engine.format.TensorFields;
import dev.sd3studio.engine.format.ProtoFields.Field;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The linear layers of an ONNX graph and where their weights are, read straight from the protobuf (the
 * file is memory-mapped and weight bytes are skipped, not copied). A linear layer is a MatMul or Gemm
 * whose weight is an initializer; its module path comes from the node name the exporter wrote
 * ({@code /m/transformer_blocks.0/attn/to_q/MatMul} → {@code m.transformer_blocks.0.attn.to_q}). Graphs the engine
 * builds from a checkpoint are read the same way from their bytes: their builders name linear nodes so, and their
 * weights, stored in the checkpoint's own type, reach the MatMul or Gemm through a Cast to float.
 */
public final class OnnxWeights {
    /** ONNX TensorProto data types we can merge into. */
    public static final int FLOAT = 1;
    public static final int FLOAT16 = 10;
    public static final int BFLOAT16 = 16;

    /** Operators that absorb the projection weights (fused or quantized), so the module weights are gone. */
    private static final Set<String> FUSING_OPS = Set.of("Attention", "MultiHeadAttention", "PackedAttention",
            "PackedMultiHeadAttention", "GroupQueryAttention", "QAttention", "FusedMatMul", "MatMulNBits",
            "MatMulInteger", "QLinearMatMul", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "GemmFastGelu",
            "MatMulFpQ4", "MatMulBnb4");

    /**
     * A MultiHeadAttention given projected q, k, v and nothing else (no packed QKV, no bias, no mask), as the
     * engine's own MMDiT graph writes it: the projections stay ordinary named nodes, unlike ORT's fusions,
     * which hand it the projection biases.
     */
    private static boolean isBareAttention(Node n) {
        return n.op().equals("MultiHeadAttention") && n.inputs().size() == 3 && n.inputs().stream().noneMatch(String::isEmpty);
    }

    /**
     * Ends the name of a node whose weight holds only some output rows of its module, from the row given after it
     * ({@code /transformer_blocks.0/norm1/linear/Gemm#rows:64}): built graphs cut fused modulations so.
     */
    public static final String FIRST_ROW_MARK = "#rows:";

    /** How a weight is stored: {@code IN_OUT} for MatMul (the transpose of torch's), {@code OUT_IN} as torch. */
    public enum Layout { IN_OUT, OUT_IN }

    /** Where an initializer's bytes are: in the model file or in an external data file, as raw little-endian. */
    public record Initializer(String name, int dataType, long[] dims, Path file, long offset, long length,
                              boolean external) {
        public long elements() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }
    }

    /**
     * One linear layer: its node, module path (null when the name carries none) and weight. Exporters
     * that name parameters after the module ({@code time_text_embed.timestep_embedder.linear_1.weight})
     * give a second path when the node name was shortened; both are matched. {@code firstRow}: the module output
     * row this weight's first row is (0 unless the module is cut into parts, see {@link #FIRST_ROW_MARK}).
     */
    public record LinearWeight(String node, String modulePath, Initializer weight, Layout layout, long firstRow) {
        public LinearWeight(String node, String modulePath, Initializer weight, Layout layout) {
            this(node, modulePath, weight, layout, 0);
        }

        /** The module path the weight's own name gives, or null. */
        public String weightPath() {
            String n = weight.name();
            return n.endsWith(".weight") && n.indexOf('.') < n.length() - 7 ? n.substring(0, n.length() - 7) : null;
        }

        boolean matches(String path) {
            return endsWithSegments(modulePath, path, '.') || endsWithSegments(weightPath(), path, '.');
        }

        boolean matchesFlat(String flat) {
            return (modulePath != null && endsWithSegments(modulePath.replace('.', '_'), flat, '_'))
                    || (weightPath() != null && endsWithSegments(weightPath().replace('.', '_'), flat, '_'));
        }

        private static boolean endsWithSegments(String full, String tail, char separator) {
            return full != null && (full.equals(tail) || full.endsWith(separator + tail));
        }

        public long inFeatures() {
            return layout == Layout.IN_OUT ? weight.dims()[0] : weight.dims()[1];
        }

        public long outFeatures() {
            return layout == Layout.IN_OUT ? weight.dims()[1] : weight.dims()[0];
        }
    }

    private final Path file;
    private final List<LinearWeight> linears;
    private final Set<String> fusingOps;
    private final int constantWeights;

    private OnnxWeights(Path file, List<LinearWeight> linears, Set<String> fusingOps, int constantWeights) {
        this.file = file;
        this.linears = linears;
        this.fusingOps = fusingOps;
        this.constantWeights = constantWeights;
    }

    public Path file() {
        return file;
    }

    public List<LinearWeight> linears() {
        return linears;
    }

    /** Operator types present that fuse or quantize projections (empty for a plain export). */
    public Set<String> fusingOps() {
        return fusingOps;
    }

    /** Why this export cannot take LoRAs on layers it does not name, or null when it can. */
    public String whyNotLoraReady() {
        if (!fusingOps.isEmpty()) {
            return "its optimizer fused or quantized the projections (" + String.join(", ", fusingOps) + " nodes)";
        }
        if (linears.stream().noneMatch(l -> l.modulePath() != null)) {
            return constantWeights > 0 ? "its weights are Constant nodes, which cannot be replaced"
                    : "its node names carry no module paths (renamed by an optimizer)";
        }
        return null;
    }

    /** The layers whose module path is {@code path} or ends with it (the exporter may add a prefix). */
    public List<LinearWeight> byModulePath(String path) {
        return distinct(linears.stream().filter(l -> l.matches(path)).toList());
    }

    /** The same for a kohya underscore name, compared with the module path's underscore form. */
    public List<LinearWeight> byFlatName(String flat) {
        return distinct(linears.stream().filter(l -> l.matchesFlat(flat)).toList());
    }

    private static List<LinearWeight> distinct(List<LinearWeight> hits) {
        Map<String, LinearWeight> byInit = new LinkedHashMap<>();
        hits.forEach(h -> byInit.putIfAbsent(h.weight().name(), h));
        return List.copyOf(byInit.values());
    }

    // ---- reading ------------------------------------------------------------------------------------

    public static OnnxWeights read(Path modelFile) throws EngineException {
        try (Arena arena = Arena.ofConfined()) {
            Optional<ByteBuffer> mapped = ProtoFields.map(modelFile, arena);
            if (mapped.isEmpty()) {
                throw new EngineException(Kind.INCOMPATIBLE_MODEL, modelFile + " is larger than 2 GB without"
                        + " external data, which ONNX does not allow; re-export it with external data.");
            }
            return parseModel(modelFile, modelFile.toAbsolutePath().getParent(), true, mapped.get());
        } catch (IOException e) {
            throw new EngineException(Kind.IO, "cannot read " + modelFile + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new EngineException(Kind.CORRUPT_FILE, modelFile + " is not a readable ONNX file ("
                    + e.getMessage() + "); download this component again.", e);
        }
    }

    /**
     * A graph built in memory (a serialized ModelProto) whose weights are external data relative to
     * {@code weightFolder}; {@code source} is what messages name. Inline tensors are not in any file, so
     * only external weights are offered for merging (the builders keep every weight external).
     */
    public static OnnxWeights read(byte[] model, Path weightFolder, Path source) throws EngineException {
        try {
            return parseModel(source, weightFolder.toAbsolutePath(), false, ByteBuffer.wrap(model));
        } catch (IllegalArgumentException e) {
            throw new EngineException(Kind.INTERNAL, "the graph built for " + source + " is not readable ONNX ("
                    + e.getMessage() + ")", e);
        }
    }

    private record Node(String name, String op, List<String> inputs, List<String> outputs, long transB) {
    }

    /** ModelProto.graph = 7; GraphProto.node = 1, initializer = 5. */
    private static OnnxWeights parseModel(Path modelFile, Path dataFolder, boolean inlineInFile, ByteBuffer buf)
            throws EngineException {
        List<Node> nodes = new ArrayList<>();
        Map<String, Initializer> inits = new HashMap<>();
        for (Field graph : ProtoFields.parse(buf, 0)) {
            if (!graph.is(7, ProtoFields.LENGTH)) {
                continue;
            }
            for (Field f : graph.fields()) {
                if (f.is(1, ProtoFields.LENGTH)) {
                    nodes.add(parseNode(f.fields()));
                } else if (f.is(5, ProtoFields.LENGTH)) {
                    Initializer i = parseTensor(modelFile, dataFolder, inlineInFile, f.fields());
                    if (i != null) {
                        inits.put(i.name(), i);
                    }
                }
            }
        }
        Map<String, Node> producer = new HashMap<>();
        Set<String> fusing = new TreeSet<>();
        for (Node n : nodes) {
            n.outputs().forEach(o -> producer.put(o, n));
            if (FUSING_OPS.contains(n.op()) && !isBareAttention(n)) {
                fusing.add(n.op());
            }
        }
        int constantWeights = 0;
        List<LinearWeight> linears = new ArrayList<>();
        for (Node n : nodes) {
            if ((!n.op().equals("MatMul") && !n.op().equals("Gemm")) || n.inputs().size() < 2) {
                continue;
            }
            String w = n.inputs().get(1);
            Initializer init = inits.get(w);
            Layout layout = n.op().equals("Gemm") && n.transB() == 1 ? Layout.OUT_IN : Layout.IN_OUT;
            if (init == null) {
                Node p = producer.get(w);
                if (p != null && p.op().equals("Cast") && !p.inputs().isEmpty()) {
                    init = inits.get(p.inputs().get(0));   // a stored narrower weight widened for the layer
                } else if (p != null && p.op().equals("Transpose") && !p.inputs().isEmpty()) {
                    init = inits.get(p.inputs().get(0));
                    layout = layout == Layout.IN_OUT ? Layout.OUT_IN : Layout.IN_OUT;
                } else if (p != null && p.op().equals("Constant")) {
                    constantWeights++;
                }
            }
            if (init == null || init.dims().length != 2) {
                continue;
            }
            linears.add(new LinearWeight(n.name(), modulePath(n.name(), init.name()), init, layout, firstRow(n.name())));
        }
        return new OnnxWeights(modelFile, List.copyOf(linears), Set.copyOf(fusing), constantWeights);
    }

    /** {@code /m/transformer_blocks.0/attn/to_q/MatMul} → {@code m.transformer_blocks.0.attn.to_q}. */
    static String modulePath(String nodeName, String initializerName) {
        if (nodeName != null && nodeName.indexOf('/') >= 0) {
            String n = nodeName.startsWith("/") ? nodeName.substring(1) : nodeName;
            int last = n.lastIndexOf('/');
            if (last > 0) {
                return n.substring(0, last).replace('/', '.');
            }
        }
        if (initializerName.endsWith(".weight") && initializerName.indexOf('.') < initializerName.length() - 7) {
            return initializerName.substring(0, initializerName.length() - ".weight".length());
        }
        return null;
    }

    /** The row after {@link #FIRST_ROW_MARK} at the end of a node name, or 0. */
    static long firstRow(String nodeName) {
        int at = nodeName.lastIndexOf(FIRST_ROW_MARK);
        if (at < 0 || nodeName.indexOf('/', at) >= 0) {
            return 0;
        }
        try {
            return Long.parseLong(nodeName.substring(at + FIRST_ROW_MARK.length()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5 (AttributeProto: name 1, i 3). */
    private static Node parseNode(List<Field> node) {
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        long transB = 0;
        for (Field f : node) {
            if (f.is(1, ProtoFields.LENGTH)) {
                inputs.add(f.text());
            } else if (f.is(2, ProtoFields.LENGTH)) {
                outputs.add(f.text());
            } else if (f.is(5, ProtoFields.LENGTH)) {
                List<Field> attribute = f.fields();
                if ("transB".equals(ProtoFields.firstString(attribute, 1))) {
                    transB = ProtoFields.firstVarint(attribute, 3, 0);
                }
            }
        }
        return new Node(Objects.requireNonNullElse(ProtoFields.firstString(node, 3), ""),
                Objects.requireNonNullElse(ProtoFields.firstString(node, 4), ""), inputs, outputs, transB);
    }

    /**
     * An initializer's name, type, shape and byte location; null for storage we cannot patch. External
     * data outside the model's folder is refused here, before anything is read from it. TensorProto: dims 1,
     * data_type 2, float_data 4, name 8, raw_data 9, external_data 13 (StringStringEntryProto: key 1,
     * value 2), data_location 14.
     */
    private static Initializer parseTensor(Path modelFile, Path dataFolder, boolean inlineInFile, List<Field> tensor)
            throws EngineException {
        TensorFields t = TensorFields.parse(tensor);
        if (t == null) {
            return null;
        }
        if (t.isExternal()) {
            TensorFields.ExternalRef ref = t.externalRef();
            if (ref == null) {
                return null;
            }
            Path dataFile = ExternalDataFile.resolveIn(dataFolder, modelFile, ref.location(), ref.offset(), ref.length());
            return new Initializer(t.name(), t.dataType(), t.dims(), dataFile, ref.offset(), ref.length(), true);
        }
        if (!inlineInFile) {
            return null;
        }
        Field raw = t.inline();
        return raw == null ? null : new Initializer(t.name(), t.dataType(), t.dims(), modelFile, raw.at(),
                raw.body().remaining(), false);
    }

    /**
     * Whether a LoRA can be merged into a weight of this ONNX type and stored back in it. float8 is not: a merged
     * weight rounded to 3 mantissa bits would lose most of a LoRA's change (its steps are 6 to 12% of the value).
     */
    public static boolean canMerge(int dataType) {
        return dataType == FLOAT || dataType == FLOAT16 || dataType == BFLOAT16;
    }

    /** Why a weight of this type takes no LoRA, for the report. */
    public static String whyNotMergeable(int dataType) {
        return "its weight is stored as ONNX type " + dataType + (dataType == 17 || dataType == 19
                ? " (float8), too coarse to hold a LoRA's change; use an F16, BF16 or F32 version of this model"
                : "; LoRAs merge into float32, float16 and bfloat16 weights");
    }

    /** The weight as float32, in its stored layout. */
    public static float[] readFloats(Initializer init) throws EngineException {
        int bytesPer = switch (init.dataType()) {
            case FLOAT -> 4;
            case FLOAT16, BFLOAT16 -> 2;
            default -> throw new EngineException(Kind.INCOMPATIBLE_MODEL, "weight " + init.name() + " in "
                    + init.file() + ": " + whyNotMergeable(init.dataType()) + ".");
        };
        long n = init.elements();
        long bytes = n * bytesPer;
        if (n > Integer.MAX_VALUE - 8 || (init.length() >= 0 && init.length() != bytes)) {
            throw new EngineException(Kind.CORRUPT_FILE, "weight " + init.name() + " in " + init.file()
                    + " has " + init.length() + " bytes where its shape needs " + bytes + "; download the model again.");
        }
        ByteBuffer b = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(init.file(), StandardOpenOption.READ)) {
            if (init.offset() + bytes > ch.size()) {
                throw new EngineException(Kind.CORRUPT_FILE, "weight " + init.name() + " lies beyond the end of "
                        + init.file() + "; the download is incomplete.");
            }
            long pos = init.offset();
            while (b.hasRemaining()) {
                int r = ch.read(b, pos);
                if (r < 0) {
                    throw new IOException("unexpected end of file");
                }
                pos += r;
            }
        } catch (IOException e) {
            throw new EngineException(Kind.IO, "cannot read weight " + init.name() + " from " + init.file() + ": "
                    + e.getMessage(), e);
        }
        b.flip();
        float[] out = new float[(int) n];
        if (bytesPer == 4) {
            b.asFloatBuffer().get(out);
        } else if (init.dataType() == FLOAT16) {
            for (int i = 0; i < out.length; i++) {
                out[i] = ElementDecoder.f16(b.getShort());
            }
        } else {
            for (int i = 0; i < out.length; i++) {
                out[i] = ElementDecoder.bf16(b.getShort());
            }
        }
        return out;
    }
}
