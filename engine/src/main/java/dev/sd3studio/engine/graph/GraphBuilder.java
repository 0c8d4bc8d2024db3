package dev.sd3studio.engine.graph;

import com.google.protobuf.ByteString;
import dev.sd3studio.engine.checkpoint.WeightRef;
import dev.sd3studio.engine.format.ElementDecoder;
import dev.sd3studio.engine.format.SafetensorsDType;
import dev.sd3studio.engine.onnx.AttributeProto;
import dev.sd3studio.engine.onnx.GraphProto;
import dev.sd3studio.engine.onnx.ModelProto;
import dev.sd3studio.engine.onnx.NodeProto;
import dev.sd3studio.engine.onnx.OperatorSetIdProto;
import dev.sd3studio.engine.onnx.StringStringEntryProto;
import dev.sd3studio.engine.onnx.TensorProto;
import dev.sd3studio.engine.onnx.TensorProto.DataType;
import dev.sd3studio.engine.onnx.TensorShapeProto;
import dev.sd3studio.engine.onnx.TypeProto;
import dev.sd3studio.engine.onnx.ValueInfoProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds one ONNX model node by node. Weights are external references into the files they are stored in
 * (relative to one folder, which the session is told); a weight stored in a narrower float type is widened
 * by a Cast placed at the head of the node list, which ONNX Runtime's default order then runs just before
 * the weight's consumer (the reason is in {@code runtime.Fp16CpuGraph}).
 */
public final class GraphBuilder {
    /** ONNX IR 10 / opset 21: the first with FLOAT8 Cast inputs and LayerNormalization, both needed here. */
    public static final long IR_VERSION = 10;
    public static final long OPSET = 21;
    /** ONNX Runtime's own operators (contrib ops), version 1. */
    public static final String MICROSOFT_DOMAIN = "com.microsoft";

    private final String name;
    private final Path weightFolder;
    private final List<NodeProto> leadingCasts = new ArrayList<>();
    private final List<NodeProto> nodes = new ArrayList<>();
    private final List<TensorProto> initializers = new ArrayList<>();
    private final List<ValueInfoProto> inputs = new ArrayList<>();
    private final List<ValueInfoProto> outputs = new ArrayList<>();
    private final Map<String, Integer> counters = new HashMap<>();
    private final Map<String, String> widened = new HashMap<>();
    private boolean usesMicrosoftOps;

    /** {@code weightFolder}: the folder every weight file lies in or under, given to the session as the external data folder. */
    public GraphBuilder(String name, Path weightFolder) {
        this.name = name;
        this.weightFolder = weightFolder.toAbsolutePath().normalize();
    }

    public Path weightFolder() {
        return weightFolder;
    }

    /** A unique value name starting with {@code stem}. */
    public String fresh(String stem) {
        int n = counters.merge(stem, 1, Integer::sum);
        return n == 1 ? stem : stem + "_" + n;
    }

    /** A graph input; each dim is a Long (fixed) or a String (named, dynamic). */
    public String input(String valueName, DataType type, Object... dims) {
        inputs.add(valueInfo(valueName, type, dims));
        return valueName;
    }

    public void output(String valueName, DataType type, Object... dims) {
        outputs.add(valueInfo(valueName, type, dims));
    }

    /** A one-output node of the default domain; returns its output's name. */
    public String node(String op, List<String> in, AttributeProto... attrs) {
        return nodeWithOutputs(op, in, 1, attrs).getFirst();
    }

    public List<String> nodeWithOutputs(String op, List<String> in, int outputCount, AttributeProto... attrs) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < outputCount; i++) {
            out.add(fresh(op.toLowerCase() + "_out"));
        }
        nodes.add(NodeProto.newBuilder().setOpType(op).setName(fresh(op)).addAllInput(in).addAllOutput(out)
                .addAllAttribute(List.of(attrs)).build());
        return out;
    }

    /**
     * A one-output node named as exporters name a module's node ({@code /transformer_blocks.0/attn/to_q/Gemm}), so
     * that LoRA matching ({@code lora.OnnxWeights}) reads the diffusers / transformers module path
     * {@code modulePath} from it, as it does from an exported graph of the same model.
     */
    public String moduleNode(String modulePath, String op, List<String> in, AttributeProto... attrs) {
        return moduleNode(modulePath, op, "", in, attrs);
    }

    /** The same with {@code nameTail} after the node name's op (what else LoRA matching reads from it). */
    public String moduleNode(String modulePath, String op, String nameTail, List<String> in, AttributeProto... attrs) {
        String out = fresh(op.toLowerCase() + "_out");
        // torch's exporter writes a submodule step as '/', a list index as '.': transformer_blocks.0/attn/to_out.0
        String scope = modulePath.replaceAll("\\.(?![0-9])", "/");
        nodes.add(NodeProto.newBuilder().setOpType(op).setName(fresh("/" + scope + "/" + op + nameTail)).addAllInput(in)
                .addOutput(out).addAllAttribute(List.of(attrs)).build());
        return out;
    }

    /** A one-output node of ONNX Runtime's {@value #MICROSOFT_DOMAIN} domain; returns its output's name. */
    public String microsoftNode(String op, List<String> in, AttributeProto... attrs) {
        usesMicrosoftOps = true;
        String out = fresh(op.toLowerCase() + "_out");
        nodes.add(NodeProto.newBuilder().setOpType(op).setDomain(MICROSOFT_DOMAIN).setName(fresh(op)).addAllInput(in)
                .addOutput(out).addAllAttribute(List.of(attrs)).build());
        return out;
    }

    /** Renames a value to a graph output name by an Identity node (outputs need fixed names). */
    public void identity(String from, String to) {
        nodes.add(NodeProto.newBuilder().setOpType("Identity").setName(fresh("Identity")).addInput(from)
                .addOutput(to).build());
    }

    /**
     * A weight as float32: the stored tensor referenced in place, widened by a leading Cast when it is stored
     * narrower. The same {@code ref} asked for twice is referenced (and widened) once.
     */
    public String weight(String weightName, WeightRef ref) {
        String key = ref.file() + "@" + ref.offset() + "+" + ref.length() + java.util.Arrays.toString(ref.shape());
        String known = widened.get(key);
        if (known != null) {
            return known;
        }
        String stored = fresh(weightName);
        initializers.add(externalTensor(stored, ref));
        String value = stored;
        if (ref.dtype() != SafetensorsDType.F32) {
            value = fresh(weightName + "_f32");
            leadingCasts.add(NodeProto.newBuilder().setOpType("Cast").setName(fresh("Cast")).addInput(stored)
                    .addOutput(value).addAttribute(Attr.i("to", DataType.FLOAT_VALUE)).build());
        }
        widened.put(key, value);
        return value;
    }

    /**
     * A lookup table (an embedding) indexed by {@code indices}: the rows are gathered from the stored tensor
     * first and only they are widened, so a narrow table is never widened whole; a full-size T5's is
     * 32128 × 4096, 526 MB as float32 at every run.
     */
    public String gatherRows(String weightName, WeightRef table, String indices) {
        if (table.dtype() == SafetensorsDType.F32) {
            return node("Gather", List.of(weight(weightName, table), indices));
        }
        String stored = fresh(weightName);
        if (table.dtype().bytes() == 1) {
            // ONNX's Gather takes no float8 tensor: the same bytes read as uint8 codes are gathered, and each
            // code is decoded through a 256-entry table of its exact float32 values
            initializers.add(externalTensor(stored, table).toBuilder().setDataType(DataType.UINT8_VALUE).build());
            String codes = node("Cast", List.of(node("Gather", List.of(stored, indices))), Attr.i("to", DataType.INT32_VALUE));
            return node("Gather", List.of(constant(weightName + "_codes", codeTable(table.dtype()), 256), codes));
        }
        initializers.add(externalTensor(stored, table));
        return node("Cast", List.of(node("Gather", List.of(stored, indices))), Attr.i("to", DataType.FLOAT_VALUE));
    }

    /**
     * A weight as stored, for reshaping and slicing before it is widened with {@link #widenSlice}: a large
     * table of which a run uses a part (the MMDiT's positional grid: 453 MB in fp16, 906 MB widened whole)
     * is widened only where used. One-byte float types, which ONNX cannot slice, come widened already.
     */
    public String storedForSlicing(String weightName, WeightRef ref) {
        if (ref.dtype() == SafetensorsDType.F32 || ref.dtype().bytes() == 1) {
            return weight(weightName, ref);
        }
        String stored = fresh(weightName);
        initializers.add(externalTensor(stored, ref));
        return stored;
    }

    /** The float32 of a value cut from {@link #storedForSlicing}'s result for {@code ref}. */
    public String widenSlice(String value, WeightRef ref) {
        if (ref.dtype() == SafetensorsDType.F32 || ref.dtype().bytes() == 1) {
            return value;
        }
        return node("Cast", List.of(value), Attr.i("to", DataType.FLOAT_VALUE));
    }

    /** The float32 value of every byte of a one-byte float type. */
    private static float[] codeTable(SafetensorsDType type) {
        ByteBuffer codes = ByteBuffer.allocate(256);
        for (int i = 0; i < 256; i++) {
            codes.put((byte) i);
        }
        float[] values = new float[256];
        ElementDecoder.decode(type, codes.flip(), values);
        return values;
    }

    /** A small constant stored in the model itself. */
    public String constant(String stem, float[] values, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return inlineTensor(stem, DataType.FLOAT, b.array(), dims);
    }

    public String constantLongs(String stem, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return inlineTensor(stem, DataType.INT64, b.array(), values.length);
    }

    public String scalar(String stem, float value) {
        return constant(stem, new float[] {value});
    }

    private String inlineTensor(String stem, DataType type, byte[] raw, long... dims) {
        String n = fresh(stem);
        TensorProto.Builder t = TensorProto.newBuilder().setName(n).setDataType(type.getNumber())
                .setRawData(ByteString.copyFrom(raw));
        for (long d : dims) {
            t.addDims(d);
        }
        initializers.add(t.build());
        return n;
    }

    private TensorProto externalTensor(String tensorName, WeightRef ref) {
        Path file = ref.file().toAbsolutePath().normalize();
        if (!file.startsWith(weightFolder)) {
            throw new IllegalArgumentException(file + " is not inside the weight folder " + weightFolder);
        }
        // ONNX locations use '/', whatever the platform's separator
        String location = weightFolder.relativize(file).toString().replace('\\', '/');
        TensorProto.Builder t = TensorProto.newBuilder().setName(tensorName)
                .setDataType(ref.dtype().onnxType().getNumber())
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", location))
                .addExternalData(entry("offset", Long.toString(ref.offset())))
                .addExternalData(entry("length", Long.toString(ref.length())));
        for (long d : ref.shape()) {
            t.addDims(d);
        }
        return t.build();
    }

    public ModelProto build() {
        GraphProto.Builder g = GraphProto.newBuilder().setName(name)
                .addAllNode(leadingCasts).addAllNode(nodes)
                .addAllInitializer(initializers).addAllInput(inputs).addAllOutput(outputs);
        ModelProto.Builder model = ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("sd3studio")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET));
        if (usesMicrosoftOps) {
            model.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(MICROSOFT_DOMAIN).setVersion(1));
        }
        return model.setGraph(g).build();
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    private static ValueInfoProto valueInfo(String valueName, DataType type, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof Number n) {
                dim.setDimValue(n.longValue());
            } else {
                dim.setDimParam(String.valueOf(d));
            }
            shape.addDim(dim);
        }
        return ValueInfoProto.newBuilder().setName(valueName)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(type.getNumber()).setShape(shape)))
                .build();
    }
}
