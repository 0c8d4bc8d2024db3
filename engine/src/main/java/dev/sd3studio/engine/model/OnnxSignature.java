package dev.sd3studio.engine.model;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineException.Kind;

import dev.sd3studio.engine.format.ProtoFields;
import dev.sd3studio.engine.format.ProtoFields.Field;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A graph's inputs and outputs read straight from the ONNX protobuf, without ONNX Runtime and
 * without reading the weights: the file is mapped and nodes and initializers are stepped over, not
 * copied, so an inline graph of up to 2 GB costs the pages of its field headers and an external-data
 * graph a few kilobytes. Every length is checked against its enclosing message before it is used
 * ({@link ProtoFields}), so a lying length fails as a corrupt file instead of allocating what it claims.
 * Field numbers from onnx.proto: ModelProto.graph = 7; GraphProto.node = 1, initializer = 5, input = 11, output = 12;
 * ValueInfoProto.name = 1, type = 2; TypeProto.tensor_type = 1; Tensor.elem_type = 1, shape = 2;
 * TensorShapeProto.dim = 1; Dimension.dim_value = 1, dim_param = 2; TensorProto.name = 8.
 */
public record OnnxSignature(List<Port> inputs, List<Port> outputs) {
    /** One graph input or output: its element type as ONNX names it, and its dimensions (-1 with a name when symbolic). */
    public record Port(String name, String elementType, long[] shape, String[] dimensionNames) {
        /** "input_ids int64 [batch_size, 77]": the form check-model prints. */
        public String describe() {
            StringBuilder s = new StringBuilder(name).append(' ').append(elementType).append(" [");
            for (int i = 0; i < shape.length; i++) {
                if (i > 0) {
                    s.append(", ");
                }
                s.append(shape[i] >= 0 ? Long.toString(shape[i])
                        : dimensionNames[i] != null && !dimensionNames[i].isEmpty() ? dimensionNames[i] : "?");
            }
            return s.append(']').toString();
        }

        /** The dimension at {@code axis}, or -1 when it is symbolic or absent. */
        public long dim(int axis) {
            return axis < shape.length ? shape[axis] : -1;
        }
    }

    private static final String[] ELEMENT_TYPES = {"undefined", "float", "uint8", "int8", "uint16", "int16",
        "int32", "int64", "string", "bool", "float16", "double", "uint32", "uint64", "complex64", "complex128",
        "bfloat16"};

    public Port input(String name) {
        return inputs.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
    }

    /** Reads {@code file}'s signature; a file that is not an ONNX model fails as CORRUPT_FILE. */
    public static OnnxSignature read(Path file) throws EngineException {
        try (Arena arena = Arena.ofConfined()) {
            Optional<ByteBuffer> mapped = ProtoFields.map(file, arena);
            if (mapped.isEmpty()) {
                throw new EngineException(Kind.CORRUPT_FILE, file + " is larger than 2 GB without external data,"
                        + " which ONNX does not allow; download this component again or re-export it.");
            }
            Field graph = ProtoFields.first(ProtoFields.parse(mapped.get(), 0), 7);
            if (graph == null) {
                throw new EngineException(Kind.CORRUPT_FILE, file + " holds no ONNX graph; download this component again.");
            }
            return graph(graph.fields());
        } catch (IOException | IllegalArgumentException e) {
            throw new EngineException(Kind.CORRUPT_FILE, file + " is not a readable ONNX model (" + e.getMessage()
                    + "); download this component again.", e);
        }
    }

    private static OnnxSignature graph(List<Field> graph) {
        List<Port> inputs = new ArrayList<>();
        List<Port> outputs = new ArrayList<>();
        Set<String> initializers = new HashSet<>();
        for (Field f : graph) {
            if (f.is(11, ProtoFields.LENGTH)) {
                inputs.add(valueInfo(f.fields()));
            } else if (f.is(12, ProtoFields.LENGTH)) {
                outputs.add(valueInfo(f.fields()));
            } else if (f.is(5, ProtoFields.LENGTH)) {
                initializers.add(Objects.requireNonNullElse(ProtoFields.firstString(f.fields(), 8), ""));
            }
        }
        // Graphs from before IR 4 list initializers among the inputs; they are weights, not inputs.
        inputs.removeIf(p -> initializers.contains(p.name()));
        return new OnnxSignature(List.copyOf(inputs), List.copyOf(outputs));
    }

    private static Port valueInfo(List<Field> valueInfo) {
        String name = Objects.requireNonNullElse(ProtoFields.firstString(valueInfo, 1), "");
        String type = "undefined";
        List<Long> dims = new ArrayList<>();
        List<String> names = new ArrayList<>();
        Field typeProto = ProtoFields.first(valueInfo, 2);
        Field tensor = typeProto == null ? null : ProtoFields.first(typeProto.fields(), 1);
        if (tensor != null) {
            List<Field> tensorType = tensor.fields();
            long code = ProtoFields.firstVarint(tensorType, 1, 0);
            type = code >= 0 && code < ELEMENT_TYPES.length ? ELEMENT_TYPES[(int) code] : "type" + code;
            Field shape = ProtoFields.first(tensorType, 2);
            if (shape != null) {
                for (Field dim : shape.fields()) {
                    if (dim.is(1, ProtoFields.LENGTH)) {
                        List<Field> d = dim.fields();
                        dims.add(ProtoFields.firstVarint(d, 1, -1));
                        names.add(ProtoFields.firstString(d, 2));
                    }
                }
            }
        }
        return new Port(name, type.toLowerCase(Locale.ROOT), dims.stream().mapToLong(Long::longValue).toArray(),
                names.toArray(String[]::new));
    }
}
