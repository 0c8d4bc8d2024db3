package dev.sd3studio.engine.runtime;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.sd3studio.engine.format.ProtoFields;
import dev.sd3studio.engine.format.ProtoFields.Field;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An fp16 export rewritten for the CPU: it computes in float32 while its weights stay fp16, in the file
 * and in memory, each weight widened by a Cast that runs just before the node that uses it.
 * <p>
 * Why: the CPU provider has no fp16 MatMul on x86, so ORT wraps such nodes in casts itself. The casts
 * it inserts get the graph's highest node indices, and its default execution order (a depth-first walk
 * back from the outputs that visits the highest-numbered input first) then runs many of them long
 * before their layer: the full-size T5-XXL held 7.9 GB of float32 weight copies at once beside its
 * 8.9 GB of mapped fp16 weights, and ran 2.7× slower. Our casts lead the node list, so that walk
 * reaches them last, right before their consumer: the T5 run then peaks at 0.67 GB of anonymous memory
 * (README, "Full-size proof"). The interface stays as the file declares it (fp16 inputs and outputs
 * are cast at the edges), so callers see no difference but rounding: the graph now rounds to fp16
 * only where its weights were stored, not between nodes.
 * <p>
 * Only graphs this rewrite fully understands are rewritten; anything else (a float32 model,
 * subgraphs, operators that pick their own element type) is left to ORT. Weights stored inside the
 * model file are referenced in place as external data of that file, so they are not copied either.
 */
final class Fp16CpuGraph {
    /** ORT reads the external weights of a model given as bytes from this folder. */
    static final String EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path";
    /** Constant folding would otherwise widen every weight once at creation and keep the copies. */
    static final String FOLD_LIMIT = "optimization.constant_folding_max_output_size_in_bytes";
    /** Small widened constants (norm scales, biases: KBs each) may still be folded. */
    static final long FOLD_LIMIT_BYTES = 1 << 20;
    /**
     * Weights stored inline in the model file from this size on are referenced in place as external
     * data of that same file, so the rewritten graph (handed to ORT as bytes) stays small.
     */
    static final int INLINE_WEIGHT_BYTES = 4096;

    private static final int FLOAT = 1;
    private static final int FLOAT16 = 10;
    /** Operators whose output element type comes from an attribute other than Cast's, or that hold subgraphs. */
    private static final Set<String> UNSUPPORTED_OPS = Set.of("EyeLike", "RandomNormal", "RandomUniform",
            "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli", "If", "Loop", "Scan",
            "SequenceEmpty");
    /** Operators that read part of their first input: widening their output instead of a whole table. */
    private static final Set<String> INDEXING_OPS = Set.of("Gather", "Slice");
    private static final String WIDE = "__sd3studio_f32";
    private static final String HALF = "__sd3studio_f16";

    private Fp16CpuGraph() {
    }

    /**
     * The rewritten model for {@code file}, or empty when it is not an fp16 graph this rewrite handles.
     * The file is mapped, not read: weights stored in it are skipped, not copied.
     */
    static Optional<byte[]> rewrite(Path file) {
        try (Arena arena = Arena.ofConfined()) {
            // over 2 GB: not a protobuf file
            return ProtoFields.map(file, arena).flatMap(mapped -> rewrite(mapped, file.getFileName().toString()));
        } catch (IOException | RuntimeException e) {
            // Unreadable or malformed: ORT opening the file itself gives the user the proper message.
            return Optional.empty();
        }
    }

    /**
     * Options a rewritten model needs: where its weights are, and neither folding nor fusing of its
     * casts into float32 copies (ORT 1.29 also aborts the process in that fusion on such a graph).
     */
    static void configure(OrtSession.SessionOptions options, Path weightFolder) throws OrtException {
        options.addConfigEntry(EXTERNAL_DATA_FOLDER, weightFolder.toAbsolutePath().toString());
        options.addConfigEntry(FOLD_LIMIT, Long.toString(FOLD_LIMIT_BYTES));
        // Set once only: ORT logs a replaced entry through a logger that exists only once the
        // environment does, and aborts the process when it does not yet.
        if (!options.getConfigEntries().containsKey(SessionProfile.DISABLED_OPTIMIZERS)) {
            options.addConfigEntry(SessionProfile.DISABLED_OPTIMIZERS, SessionProfile.WIDEN_FP16_INITIALIZERS);
        }
    }

    /** {@code model} is the content of the file named {@code fileName}, which inline weights are referenced in. */
    static Optional<byte[]> rewrite(ByteBuffer model, String fileName) {
        List<Field> modelFields = ProtoFields.parse(model, 0);
        int graphAt = -1;
        for (int i = 0; i < modelFields.size(); i++) {
            Field f = modelFields.get(i);
            if (f.is(25, ProtoFields.LENGTH)) {
                return Optional.empty(); // model-local functions: their bodies would need the same rewrite
            }
            if (f.is(7, ProtoFields.LENGTH)) {
                graphAt = i;
            }
        }
        if (graphAt < 0) {
            return Optional.empty();
        }
        Optional<byte[]> graph = new Rewrite(modelFields.get(graphAt).fields(), fileName).run();
        if (graph.isEmpty()) {
            return Optional.empty();
        }
        List<Field> out = new ArrayList<>(modelFields);
        out.set(graphAt, Field.message(7, graph.get()));
        return Optional.of(ProtoFields.write(out));
    }

    /** One graph's rewrite (GraphProto: node 1, initializer 5, input 11, output 12, value_info 13). */
    private static final class Rewrite {
        private final List<Field> graph;
        private final String fileName;
        private final Set<String> halfWeights = new HashSet<>();
        private final Set<String> halfInputs = new HashSet<>();
        private final Set<String> halfOutputs = new HashSet<>();
        /** Value name → the name of its float32 version. */
        private final Map<String, String> widened = new LinkedHashMap<>();
        private final List<byte[]> leadingCasts = new ArrayList<>();
        private final List<byte[]> trailingCasts = new ArrayList<>();

        Rewrite(List<Field> graph, String fileName) {
            this.graph = graph;
            this.fileName = fileName;
        }

        Optional<byte[]> run() {
            List<List<Field>> nodes = new ArrayList<>();
            for (Field f : graph) {
                if (f.is(1, ProtoFields.LENGTH)) {
                    nodes.add(f.fields());
                } else if (f.is(5, ProtoFields.LENGTH)) {
                    List<Field> tensor = f.fields();
                    if (ProtoFields.firstVarint(tensor, 2, 0) == FLOAT16) {
                        halfWeights.add(ProtoFields.firstString(tensor, 8));
                    }
                } else if (f.is(15, ProtoFields.LENGTH)) {
                    return Optional.empty(); // sparse weights
                } else if (f.is(11, ProtoFields.LENGTH) && elementType(f) == FLOAT16) {
                    halfInputs.add(ProtoFields.firstString(f.fields(), 1));
                } else if (f.is(12, ProtoFields.LENGTH) && elementType(f) == FLOAT16) {
                    halfOutputs.add(ProtoFields.firstString(f.fields(), 1));
                }
            }
            halfInputs.removeAll(halfWeights); // older exports list weights among the inputs too
            boolean passThrough = halfOutputs.stream().anyMatch(o -> halfInputs.contains(o) || halfWeights.contains(o));
            if (halfWeights.isEmpty() || passThrough || !nodes.stream().allMatch(Rewrite::understood)) {
                return Optional.empty();
            }
            for (String input : halfInputs) {
                widened.put(input, input + WIDE);
                leadingCasts.add(cast(input, input + WIDE, FLOAT, input + "/widen"));
            }
            Map<String, String> outputRenames = new HashMap<>();
            for (String output : halfOutputs) {
                outputRenames.put(output, output + WIDE);
                widened.put(output, output + WIDE);
                trailingCasts.add(cast(output + WIDE, output, FLOAT16, output + "/narrow"));
            }
            List<byte[]> body = new ArrayList<>();
            for (List<Field> node : nodes) {
                body.addAll(rewriteNode(node, outputRenames));
            }
            List<Field> out = new ArrayList<>();
            leadingCasts.forEach(c -> out.add(Field.message(1, c)));
            body.forEach(n -> out.add(Field.message(1, n)));
            trailingCasts.forEach(c -> out.add(Field.message(1, c)));
            for (Field f : graph) {
                if (f.is(5, ProtoFields.LENGTH)) {
                    out.add(Field.message(5, referencedInPlace(f.fields(), fileName)));
                } else if (!f.is(1, ProtoFields.LENGTH) && !f.is(13, ProtoFields.LENGTH)) {
                    // value_info (13) carries the old fp16 types of inner values; ORT infers the new ones
                    out.add(f);
                }
            }
            return Optional.of(ProtoFields.write(out));
        }

        /** NodeProto: input 1, output 2, op_type 4, attribute 5. */
        private List<byte[]> rewriteNode(List<Field> node, Map<String, String> outputRenames) {
            String op = ProtoFields.firstString(node, 4);
            List<Field> out = new ArrayList<>();
            List<byte[]> after = new ArrayList<>();
            int inputIndex = 0;
            for (Field f : node) {
                if (f.is(1, ProtoFields.LENGTH)) {
                    out.add(Field.string(1, widenedInput(f.text(), op, inputIndex++)));
                } else if (f.is(2, ProtoFields.LENGTH)) {
                    String output = f.text();
                    String renamed = outputRenames.getOrDefault(output, output);
                    if (INDEXING_OPS.contains(op) && halfWeights.contains(firstInput(node))) {
                        // the part read from an fp16 table is widened, not the whole table
                        out.add(Field.string(2, output + HALF));
                        after.add(cast(output + HALF, renamed, FLOAT, output + "/widen"));
                    } else {
                        out.add(Field.string(2, renamed));
                    }
                } else if (f.is(5, ProtoFields.LENGTH)) {
                    out.add(Field.message(5, rewriteAttribute(op, f.bytes())));
                } else {
                    out.add(f);
                }
            }
            List<byte[]> result = new ArrayList<>();
            result.add(ProtoFields.write(out));
            result.addAll(after);
            return result;
        }

        private String widenedInput(String input, String op, int index) {
            if (widened.containsKey(input)) {
                return widened.get(input);
            }
            boolean readsPart = INDEXING_OPS.contains(op) && index == 0;
            if (!halfWeights.contains(input) || readsPart || op.equals("Cast")) {
                return input;
            }
            String wide = input + WIDE;
            widened.put(input, wide);
            leadingCasts.add(cast(input, wide, FLOAT, input + "/widen"));
            return wide;
        }

        /** AttributeProto: name 1, t 5, i 3. Cast's {@code to} and fp16 constants become float32. */
        private static byte[] rewriteAttribute(String op, byte[] attribute) {
            List<Field> fields = ProtoFields.parse(attribute);
            String name = ProtoFields.firstString(fields, 1);
            List<Field> out = new ArrayList<>(fields.size());
            for (Field f : fields) {
                if (op.equals("Cast") && "to".equals(name) && f.is(3, ProtoFields.VARINT) && f.value() == FLOAT16) {
                    out.add(Field.varint(3, FLOAT));
                } else if ((op.equals("Constant") || op.equals("ConstantOfShape")) && f.is(5, ProtoFields.LENGTH)) {
                    out.add(Field.message(5, widenTensor(f.bytes())));
                } else {
                    out.add(f);
                }
            }
            return ProtoFields.write(out);
        }

        private static boolean understood(List<Field> node) {
            String op = ProtoFields.firstString(node, 4);
            if (op == null || UNSUPPORTED_OPS.contains(op)) {
                return false;
            }
            for (Field f : node) {
                if (f.is(5, ProtoFields.LENGTH)) {
                    for (Field a : f.fields()) {
                        // g 6, graphs 11: subgraphs would need the same rewrite
                        if (a.is(6, ProtoFields.LENGTH) || a.is(11, ProtoFields.LENGTH)) {
                            return false;
                        }
                    }
                }
            }
            return true;
        }

        private static String firstInput(List<Field> node) {
            return ProtoFields.firstString(node, 1);
        }
    }

    /**
     * An initializer (TensorProto: raw_data 9, external_data 13, data_location 14) whose inline
     * bytes, from {@link #INLINE_WEIGHT_BYTES} on, are replaced by a reference to where they are in
     * the model file {@code fileName}; their offsets must be those of the parsed file.
     */
    static byte[] referencedInPlace(List<Field> tensor, String fileName) {
        List<Field> out = new ArrayList<>();
        Field raw = null;
        for (Field f : tensor) {
            if (f.is(9, ProtoFields.LENGTH) && f.body().remaining() >= INLINE_WEIGHT_BYTES) {
                raw = f;
            } else {
                out.add(f);
            }
        }
        if (raw != null) {
            out.add(Field.message(13, entry("location", fileName)));
            out.add(Field.message(13, entry("offset", Long.toString(raw.at()))));
            out.add(Field.message(13, entry("length", Integer.toString(raw.body().remaining()))));
            out.add(Field.varint(14, 1));
        }
        return ProtoFields.write(out);
    }

    private static byte[] entry(String key, String value) {
        return ProtoFields.write(List.of(Field.string(1, key), Field.string(2, value)));
    }

    /** A constant tensor (TensorProto: data_type 2, int32_data 5, raw_data 9) in float32 if it was fp16. */
    static byte[] widenTensor(byte[] tensor) {
        List<Field> fields = ProtoFields.parse(tensor);
        if (ProtoFields.firstVarint(fields, 2, 0) != FLOAT16) {
            return tensor;
        }
        List<Short> halves = new ArrayList<>();
        for (Field f : fields) {
            if (f.is(9, ProtoFields.LENGTH)) {
                ByteBuffer raw = ByteBuffer.wrap(f.bytes()).order(ByteOrder.LITTLE_ENDIAN);
                while (raw.remaining() >= 2) {
                    halves.add(raw.getShort());
                }
            } else if (f.is(5, ProtoFields.VARINT)) {
                halves.add((short) f.value()); // fp16 bits, one per int32_data entry
            } else if (f.is(5, ProtoFields.LENGTH)) {
                for (long bits : ProtoFields.packedVarints(f.body())) {
                    halves.add((short) bits);
                }
            } else if (f.is(13, ProtoFields.LENGTH) || (f.is(14, ProtoFields.VARINT) && f.value() == 1)) {
                throw new IllegalArgumentException("external fp16 constant"); // not in Constant nodes
            }
        }
        ByteBuffer wide = ByteBuffer.allocate(halves.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
        halves.forEach(h -> wide.putFloat(Float.float16ToFloat(h)));
        List<Field> out = new ArrayList<>();
        for (Field f : fields) {
            if (f.is(2, ProtoFields.VARINT)) {
                out.add(Field.varint(2, FLOAT));
            } else if (!f.is(9, ProtoFields.LENGTH) && f.number() != 5) {
                out.add(f);
            }
        }
        out.add(Field.message(9, wide.array()));
        return ProtoFields.write(out);
    }

    /** ValueInfoProto.type(2).tensor_type(1).elem_type(1), or 0. */
    private static long elementType(Field valueInfo) {
        for (Field type : valueInfo.fields()) {
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

    /** NodeProto with one input and output: Cast(input) → output, to {@code to}. */
    static byte[] cast(String input, String output, int to, String name) {
        byte[] attribute = ProtoFields.write(List.of(Field.string(1, "to"), Field.varint(3, to),
                Field.varint(20, 2))); // type INT
        return ProtoFields.write(List.of(Field.string(1, input), Field.string(2, output), Field.string(3, name),
                Field.string(4, "Cast"), Field.message(5, attribute)));
    }
}
