package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;
import dev.sd3studio.engine.format.ExternalDataFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The linear layers of an ONNX graph and where their weights are, read straight from the protobuf (the
 * file is memory-mapped and weight bytes are skipped, not copied). A linear layer is a MatMul or Gemm
 * whose weight is an initializer; its module path comes from the node name the exporter wrote
 * ({@code /m/transformer_blocks.0/attn/to_q/MatMul} → {@code m.transformer_blocks.0.attn.to_q}).
 */
public final class OnnxWeights {
    /** ONNX TensorProto data types we can merge into. */
    public static final int FLOAT = 1;
    public static final int FLOAT16 = 10;

    /** Operators that absorb the projection weights (fused or quantized), so the module weights are gone. */
    private static final Set<String> FUSING_OPS = Set.of("Attention", "MultiHeadAttention", "PackedAttention",
            "PackedMultiHeadAttention", "GroupQueryAttention", "QAttention", "FusedMatMul", "MatMulNBits",
            "MatMulInteger", "QLinearMatMul", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "GemmFastGelu",
            "MatMulFpQ4", "MatMulBnb4");

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
     * give a second path when the node name was shortened; both are matched.
     */
    public record LinearWeight(String node, String modulePath, Initializer weight, Layout layout) {
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
        try (FileChannel ch = FileChannel.open(modelFile, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw new EngineException(Kind.INCOMPATIBLE_MODEL, modelFile + " is larger than 2 GB without"
                        + " external data, which ONNX does not allow; re-export it with external data.");
            }
            MappedByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            return parseModel(modelFile, buf);
        } catch (IOException e) {
            throw new EngineException(Kind.IO, "cannot read " + modelFile + ": " + e.getMessage(), e);
        } catch (IllegalStateException e) {
            throw new EngineException(Kind.CORRUPT_FILE, modelFile + " is not a readable ONNX file ("
                    + e.getMessage() + "); download this component again.", e);
        }
    }

    private record Node(String name, String op, List<String> inputs, List<String> outputs, long transB) {
    }

    private static OnnxWeights parseModel(Path modelFile, ByteBuffer buf) throws EngineException {
        ProtoReader model = new ProtoReader(buf, 0, buf.limit());
        List<Node> nodes = new ArrayList<>();
        Map<String, Initializer> inits = new HashMap<>();
        while (model.hasMore()) {
            int tag = model.tag();
            if (tag == (7 << 3 | ProtoReader.LENGTH)) {
                parseGraph(modelFile, model.message(), nodes, inits);
            } else {
                model.skip(tag);
            }
        }
        Map<String, Node> producer = new HashMap<>();
        Set<String> fusing = new TreeSet<>();
        for (Node n : nodes) {
            n.outputs().forEach(o -> producer.put(o, n));
            if (FUSING_OPS.contains(n.op())) {
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
                if (p != null && p.op().equals("Transpose") && !p.inputs().isEmpty()) {
                    init = inits.get(p.inputs().get(0));
                    layout = layout == Layout.IN_OUT ? Layout.OUT_IN : Layout.IN_OUT;
                } else if (p != null && p.op().equals("Constant")) {
                    constantWeights++;
                }
            }
            if (init == null || init.dims().length != 2) {
                continue;
            }
            linears.add(new LinearWeight(n.name(), modulePath(n.name(), init.name()), init, layout));
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

    private static void parseGraph(Path modelFile, ProtoReader graph, List<Node> nodes, Map<String, Initializer> inits)
            throws EngineException {
        while (graph.hasMore()) {
            int tag = graph.tag();
            if (tag == (1 << 3 | ProtoReader.LENGTH)) {
                nodes.add(parseNode(graph.message()));
            } else if (tag == (5 << 3 | ProtoReader.LENGTH)) {
                Initializer i = parseTensor(modelFile, graph.message());
                if (i != null) {
                    inits.put(i.name(), i);
                }
            } else {
                graph.skip(tag);
            }
        }
    }

    private static Node parseNode(ProtoReader r) {
        String name = "";
        String op = "";
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        long transB = 0;
        while (r.hasMore()) {
            int tag = r.tag();
            switch (tag) {
                case 1 << 3 | ProtoReader.LENGTH -> inputs.add(r.string());
                case 2 << 3 | ProtoReader.LENGTH -> outputs.add(r.string());
                case 3 << 3 | ProtoReader.LENGTH -> name = r.string();
                case 4 << 3 | ProtoReader.LENGTH -> op = r.string();
                case 5 << 3 | ProtoReader.LENGTH -> {
                    ProtoReader a = r.message();
                    String attr = "";
                    long i = 0;
                    while (a.hasMore()) {
                        int t = a.tag();
                        if (t == (1 << 3 | ProtoReader.LENGTH)) {
                            attr = a.string();
                        } else if (t == (3 << 3 | ProtoReader.VARINT)) {
                            i = a.varint();
                        } else {
                            a.skip(t);
                        }
                    }
                    if (attr.equals("transB")) {
                        transB = i;
                    }
                }
                default -> r.skip(tag);
            }
        }
        return new Node(name, op, inputs, outputs, transB);
    }

    /**
     * An initializer's name, type, shape and byte location; null for storage we cannot patch. External
     * data outside the model's folder is refused here, before anything is read from it.
     */
    private static Initializer parseTensor(Path modelFile, ProtoReader r) throws EngineException {
        String name = null;
        int dataType = 0;
        List<Long> dims = new ArrayList<>();
        long[] raw = null;
        long[] floatData = null;
        boolean external = false;
        Map<String, String> ext = new HashMap<>();
        while (r.hasMore()) {
            int tag = r.tag();
            switch (tag) {
                case 1 << 3 | ProtoReader.VARINT -> dims.add(r.varint());
                case 1 << 3 | ProtoReader.LENGTH -> {
                    ProtoReader p = r.message();
                    while (p.hasMore()) {
                        dims.add(p.varint());
                    }
                }
                case 2 << 3 | ProtoReader.VARINT -> dataType = (int) r.varint();
                case 4 << 3 | ProtoReader.LENGTH -> floatData = r.span();
                case 8 << 3 | ProtoReader.LENGTH -> name = r.string();
                case 9 << 3 | ProtoReader.LENGTH -> raw = r.span();
                case 13 << 3 | ProtoReader.LENGTH -> {
                    ProtoReader e = r.message();
                    String k = "";
                    String v = "";
                    while (e.hasMore()) {
                        int t = e.tag();
                        if (t == (1 << 3 | ProtoReader.LENGTH)) {
                            k = e.string();
                        } else if (t == (2 << 3 | ProtoReader.LENGTH)) {
                            v = e.string();
                        } else {
                            e.skip(t);
                        }
                    }
                    ext.put(k, v);
                }
                case 14 << 3 | ProtoReader.VARINT -> external = r.varint() == 1;
                default -> r.skip(tag);
            }
        }
        if (name == null) {
            return null;
        }
        long[] d = dims.stream().mapToLong(Long::longValue).toArray();
        if (external) {
            String location = ext.get("location");
            if (location == null) {
                return null;
            }
            long offset = number(ext.getOrDefault("offset", "0"));
            long length = ext.containsKey("length") ? number(ext.get("length")) : -1;
            Path dataFile = ExternalDataFile.resolve(modelFile, location, offset, length);
            return new Initializer(name, dataType, d, dataFile, offset, length, true);
        }
        if (raw != null) {
            return new Initializer(name, dataType, d, modelFile, raw[0], raw[1], false);
        }
        if (floatData != null && dataType == FLOAT) {
            return new Initializer(name, dataType, d, modelFile, floatData[0], floatData[1], false);
        }
        return null;
    }

    private static long number(String text) {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalStateException("external data position \"" + text + "\" is not a number");
        }
    }

    /** The weight as float32, in its stored layout. */
    public static float[] readFloats(Initializer init) throws EngineException {
        int bytesPer = switch (init.dataType()) {
            case FLOAT -> 4;
            case FLOAT16 -> 2;
            default -> throw new EngineException(Kind.INCOMPATIBLE_MODEL, "weight " + init.name() + " in "
                    + init.file() + " is of ONNX type " + init.dataType() + "; LoRAs merge into float32 and"
                    + " float16 weights only.");
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
        } else {
            for (int i = 0; i < out.length; i++) {
                out[i] = Float.float16ToFloat(b.getShort());
            }
        }
        return out;
    }
}
