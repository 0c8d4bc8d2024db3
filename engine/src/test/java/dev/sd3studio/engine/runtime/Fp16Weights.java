package dev.sd3studio.engine.runtime;

import dev.sd3studio.engine.format.ProtoFields;
import dev.sd3studio.engine.format.ProtoFields.Field;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts a model to fp16 at test time, for an end-to-end test of fp16 exports. Every float32 weight
 * matrix (an initializer of two or more dimensions stored in the file) becomes a float16 initializer
 * followed by a Cast back to float32 under the weight's own name, the layout of exports that keep
 * their compute in float32. Optionally the float inputs and outputs become fp16 as well. Other nodes
 * stay as they are, so the result differs from the original by fp16 rounding only. Edits the protobuf
 * with {@link ProtoFields} (ModelProto.graph = 7; GraphProto.node = 1, .initializer = 5, .input = 11,
 * .output = 12; TensorProto.dims = 1, .data_type = 2, .name = 8, .raw_data = 9).
 */
public final class Fp16Weights {
    private static final int FLOAT = 1;
    private static final int FLOAT16 = 10;

    /** What a conversion did: the new model and how many weights it stored as fp16. */
    public record Result(byte[] model, int converted) {
    }

    private Fp16Weights() {
    }

    public static Result convert(byte[] model) {
        return convert(model, false);
    }

    /**
     * With {@code halfInterface}, also every float32 graph input and output becomes float16 (a Cast
     * inside the graph turns each back to the float32 the nodes expect), as in an fp16 export.
     */
    public static Result convert(byte[] model, boolean halfInterface) {
        List<Field> out = new ArrayList<>();
        int converted = 0;
        for (Field f : ProtoFields.parse(model)) {
            if (f.is(7, ProtoFields.LENGTH)) {
                GraphEdit edit = new GraphEdit(f.fields(), halfInterface);
                out.add(Field.message(7, edit.run()));
                converted = edit.converted;
            } else {
                out.add(f);
            }
        }
        return new Result(ProtoFields.write(out), converted);
    }

    private static final class GraphEdit {
        private final List<Field> graph;
        private final boolean halfInterface;
        /** Float32 interface names → the names the nodes now read and write. */
        private final Map<String, String> renamed = new HashMap<>();
        private final List<Field> leading = new ArrayList<>();
        private final List<Field> trailing = new ArrayList<>();
        int converted;

        GraphEdit(List<Field> graph, boolean halfInterface) {
            this.graph = graph;
            this.halfInterface = halfInterface;
        }

        byte[] run() {
            List<Field> rest = new ArrayList<>();
            for (Field f : graph) {
                boolean port = f.is(11, ProtoFields.LENGTH) || f.is(12, ProtoFields.LENGTH);
                if (halfInterface && port && elementType(f.fields()) == FLOAT) {
                    String name = ProtoFields.firstString(f.fields(), 1);
                    renamed.put(name, name + "_fp32");
                    if (f.number() == 11) {
                        leading.add(cast(name, name + "_fp32", FLOAT));
                    } else {
                        trailing.add(cast(name + "_fp32", name, FLOAT16));
                    }
                    rest.add(Field.message(f.number(), withElementType(f.fields(), FLOAT16)));
                } else if (f.is(5, ProtoFields.LENGTH)) {
                    rest.add(initializer(f));
                } else {
                    rest.add(f);
                }
            }
            List<Field> out = new ArrayList<>(leading);
            for (Field f : rest) {
                out.add(f.is(1, ProtoFields.LENGTH) ? Field.message(1, renameNodeValues(f.fields())) : f);
            }
            out.addAll(trailing);
            // the leading casts depend on initializers and inputs only, so they can open the
            // (topologically sorted) node list; the casts to the outputs close it
            return ProtoFields.write(out);
        }

        /** A float32 weight matrix held in raw_data as fp16 plus a Cast back; anything else unchanged. */
        private Field initializer(Field f) {
            List<Field> tensor = f.fields();
            List<Long> dims = new ArrayList<>();
            Field raw = null;
            for (Field t : tensor) {
                if (t.is(1, ProtoFields.VARINT)) {
                    dims.add(t.value());
                } else if (t.is(1, ProtoFields.LENGTH)) {
                    for (long d : ProtoFields.packedVarints(t.body())) {
                        dims.add(d);
                    }
                } else if (t.is(9, ProtoFields.LENGTH)) {
                    raw = t;
                } else if (!t.is(2, ProtoFields.VARINT) && !t.is(8, ProtoFields.LENGTH)) {
                    return f; // external data, typed data fields, doc strings: leave such tensors alone
                }
            }
            String name = ProtoFields.firstString(tensor, 8);
            if (ProtoFields.firstVarint(tensor, 2, 0) != FLOAT || dims.size() < 2 || raw == null || name == null) {
                return f;
            }
            ByteBuffer in = raw.body().duplicate().order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer half = ByteBuffer.allocate(in.remaining() / 2).order(ByteOrder.LITTLE_ENDIAN);
            while (in.hasRemaining()) {
                half.putShort(Float.floatToFloat16(in.getFloat()));
            }
            List<Field> out = new ArrayList<>();
            dims.forEach(d -> out.add(Field.varint(1, d)));
            out.add(Field.varint(2, FLOAT16));
            out.add(Field.string(8, name + "_fp16"));
            out.add(Field.message(9, half.array()));
            leading.add(cast(name + "_fp16", name, FLOAT));
            converted++;
            return Field.message(5, ProtoFields.write(out));
        }

        /** A node with its inputs (1) and outputs (2) renamed through {@link #renamed}. */
        private byte[] renameNodeValues(List<Field> node) {
            List<Field> out = new ArrayList<>();
            for (Field f : node) {
                boolean value = f.is(1, ProtoFields.LENGTH) || f.is(2, ProtoFields.LENGTH);
                out.add(value ? Field.string(f.number(), renamed.getOrDefault(f.text(), f.text())) : f);
            }
            return ProtoFields.write(out);
        }
    }

    private static Field cast(String input, String output, int to) {
        return Field.message(1, Fp16CpuGraph.cast(input, output, to, "cast_" + output));
    }

    /** ValueInfoProto.type(2).tensor_type(1).elem_type(1), or 0. */
    private static long elementType(List<Field> valueInfo) {
        for (Field type : valueInfo) {
            if (type.is(2, ProtoFields.LENGTH)) {
                for (Field tensor : type.fields()) {
                    if (tensor.is(1, ProtoFields.LENGTH)) {
                        return ProtoFields.firstVarint(tensor.fields(), 1, 0);
                    }
                }
            }
        }
        return 0;
    }

    private static byte[] withElementType(List<Field> valueInfo, int elementType) {
        return ProtoFields.write(replace(valueInfo, 2, type -> replace(type, 1,
                tensor -> tensor.stream().map(f -> f.is(1, ProtoFields.VARINT) ? Field.varint(1, elementType) : f)
                        .toList())));
    }

    /** {@code message} with its length-delimited field {@code number} edited by {@code edit}. */
    private static List<Field> replace(List<Field> message, int number,
                                       java.util.function.UnaryOperator<List<Field>> edit) {
        return message.stream().map(f -> f.is(number, ProtoFields.LENGTH)
                ? Field.message(number, ProtoFields.write(edit.apply(f.fields()))) : f).toList();
    }
}
