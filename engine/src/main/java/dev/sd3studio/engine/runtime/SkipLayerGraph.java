package dev.sd3studio.engine.runtime;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.format.ProtoFields;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An MMDiT export rewired so that any of its blocks can be bypassed at run time, for skip-layer
 * guidance: one more input, {@value #INPUT} (float32 [blocks], 1 = bypass), and at each block's end
 * {@code Where(skip[N], stream in, stream out)} for its image stream and its context stream (the last
 * block of SD3 has no context output, so only its image stream). A bypassed block thus passes both
 * streams through unchanged, as the reference's {@code skip_layers}; with all flags 0 the graph
 * computes what the export does.
 * <p>
 * Why one rewired graph and not a second session of a graph with the blocks cut out: the rewired
 * graph replaces the plain session while SLG is on, so the weights exist once by construction, on
 * every device (ORT on the CPU pre-packs MatMul weights per session and on CUDA copies them to the GPU
 * per session, so a second session would hold them twice even if both mapped the same file). The price
 * is that a bypassed block is still computed on the extra pass and its result dropped: a few blocks of
 * 24 (SD3.5 Medium's 7, 8, 9: 1/8 of one pass) on some steps. Everything else in the graph stays as
 * exported, including values that later blocks happen to share with an earlier one.
 * <p>
 * Blocks are found by their node names ({@code transformer_blocks.N}, as Optimum and torch.onnx name
 * them after the PyTorch modules). A block's streams are the values it takes from outside that its
 * output reaches through the residual additions alone; values it merely shares (the timestep
 * embedding) are left as they are. Weights stored inline are referenced in place in the model file
 * ({@link Fp16CpuGraph#referencedInPlace}), so the rewritten graph handed to ORT is small.
 */
public final class SkipLayerGraph {
    /** The added input: one float per block, 1 to bypass it. */
    public static final String INPUT = "skip_blocks";

    /** Optimum's and diffusers' {@code transformer_blocks.N}; Stability AI's {@code joint_blocks.N}; plain {@code blocks.N}. */
    private static final Pattern BLOCK = Pattern.compile("(?<![A-Za-z0-9_])(?:transformer_|joint_)?blocks\\.(\\d+)(?=[./])");
    private static final int FLOAT = 1;
    private static final int INT64 = 7;
    private static final int BOOL = 9;
    /** Operators a residual stream passes through between a block's input and its output. */
    private static final Set<String> RESIDUAL_OPS = Set.of("Add", "Cast", "Identity");
    private static final String PREFIX = "__sd3studio_slg";

    private SkipLayerGraph() {
    }

    /** The transformer blocks the graph in {@code file} has (named {@code transformer_blocks.N}), 0 when none. */
    public static int blockCount(Path file) throws EngineException {
        return onMapped(file, model -> Nodes.of(graphOf(ProtoFields.parse(model, 0))).blockCount());
    }

    /** The rewired model for {@code file}; fails, naming the block, when a block's boundary cannot be found. */
    static byte[] rewrite(Path file) throws EngineException {
        return onMapped(file, model -> rewrite(model, file.getFileName().toString()));
    }

    /** {@code model} is the content of the file named {@code fileName}, which inline weights are referenced in. */
    static byte[] rewrite(ByteBuffer model, String fileName) {
        List<Field> modelFields = ProtoFields.parse(model, 0);
        byte[] graph = rewriteGraph(graphOf(modelFields), fileName);
        List<Field> out = new ArrayList<>(modelFields.size());
        for (Field f : modelFields) {
            out.add(f.is(7, ProtoFields.LENGTH) ? Field.message(7, graph) : f);
        }
        return ProtoFields.write(out);
    }

    /** ModelProto.graph (7). */
    private static List<Field> graphOf(List<Field> model) {
        for (Field f : model) {
            if (f.is(7, ProtoFields.LENGTH)) {
                return f.fields();
            }
        }
        throw new IllegalArgumentException("the file holds no graph");
    }

    private interface MappedReader<T> {
        T read(ByteBuffer model);
    }

    /** Runs {@code reader} on the file mapped, not read: the weights in it are skipped, not copied. */
    private static <T> T onMapped(Path file, MappedReader<T> reader) throws EngineException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
             Arena arena = Arena.ofConfined()) {
            if (channel.size() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("it is larger than an ONNX file can be");
            }
            return reader.read(channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena).asByteBuffer());
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.IO, "cannot read " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new EngineException(EngineException.Kind.INCOMPATIBLE_MODEL, "skip-layer guidance cannot use "
                    + file + ": " + e.getMessage() + ". Turn skip-layer guidance off for this model.", e);
        }
    }

    /** GraphProto: node 1, initializer 5, input 11. */
    private static byte[] rewriteGraph(List<Field> graph, String fileName) {
        Nodes nodes = Nodes.of(graph);
        int blocks = nodes.blockCount();
        if (blocks == 0) {
            throw new IllegalArgumentException("no node is named after transformer_blocks.N (not an Optimum MMDiT export)");
        }
        // node index after which a Where is inserted → those Where nodes; renames for consumers outside the block
        Map<Integer, List<byte[]>> insertAfter = new HashMap<>();
        Map<Integer, Map<String, String>> renamesOutsideBlock = new HashMap<>();
        List<byte[]> leading = new ArrayList<>();
        List<Field> extraInitializers = new ArrayList<>();
        String flags = PREFIX + "_flags";
        leading.add(Fp16CpuGraph.cast(INPUT, flags, BOOL, PREFIX + "/flags"));
        for (int n = 0; n < blocks; n++) {
            Map<String, String> streams = nodes.streams(n);
            if (streams.isEmpty()) {
                throw new IllegalArgumentException("where block " + n + " begins and ends is not recognisable");
            }
            String index = PREFIX + "_index_" + n;
            String flag = PREFIX + "_skip_" + n;
            extraInitializers.add(Field.message(5, int64Scalar(index, n)));
            leading.add(node("Gather", List.of(flags, index), flag, PREFIX + "/skip_" + n));
            Map<String, String> renames = new HashMap<>();
            for (var stream : streams.entrySet()) {
                String output = stream.getKey();
                String passed = output + PREFIX;
                renames.put(output, passed);
                insertAfter.computeIfAbsent(nodes.producer.get(output), k -> new ArrayList<>())
                        .add(node("Where", List.of(flag, stream.getValue(), output), passed, output + "/slg"));
            }
            renamesOutsideBlock.put(n, renames);
        }
        List<Field> out = new ArrayList<>();
        leading.forEach(b -> out.add(Field.message(1, b)));
        for (int i = 0; i < nodes.list.size(); i++) {
            out.add(Field.message(1, renameInputs(nodes.list.get(i), nodes.block.get(i), renamesOutsideBlock)));
            insertAfter.getOrDefault(i, List.of()).forEach(b -> out.add(Field.message(1, b)));
        }
        for (Field f : graph) {
            if (f.is(5, ProtoFields.LENGTH)) {
                out.add(Field.message(5, Fp16CpuGraph.referencedInPlace(f.fields(), fileName)));
            } else if (!f.is(1, ProtoFields.LENGTH)) {
                out.add(f);
            }
        }
        out.addAll(extraInitializers);
        out.add(Field.message(11, floatVector(INPUT, blocks)));
        return ProtoFields.write(out);
    }

    /** A node whose inputs produced by another block's streams are renamed to their bypassable versions. */
    private static byte[] renameInputs(List<Field> node, int ownBlock, Map<Integer, Map<String, String>> renames) {
        List<Field> out = new ArrayList<>(node.size());
        boolean changed = false;
        for (Field f : node) {
            if (f.is(1, ProtoFields.LENGTH)) {
                String input = f.text();
                String renamed = renamedOutside(input, ownBlock, renames);
                if (!renamed.equals(input)) {
                    out.add(Field.string(1, renamed));
                    changed = true;
                    continue;
                }
            }
            out.add(f);
        }
        return ProtoFields.write(changed ? out : node);
    }

    private static String renamedOutside(String input, int ownBlock, Map<Integer, Map<String, String>> renames) {
        for (var e : renames.entrySet()) {
            if (e.getKey() != ownBlock) {
                String r = e.getValue().get(input);
                if (r != null) {
                    return r;
                }
            }
        }
        return input;
    }

    /** The graph's nodes with their block (-1: none), producers and consumers. */
    private static final class Nodes {
        final List<List<Field>> list = new ArrayList<>();
        final List<Integer> block = new ArrayList<>();
        final List<String> ops = new ArrayList<>();
        final List<List<String>> inputs = new ArrayList<>();
        final Map<String, Integer> producer = new HashMap<>();
        final Set<String> graphOutputs = new HashSet<>();

        static Nodes of(List<Field> graph) {
            Nodes n = new Nodes();
            for (Field f : graph) {
                if (f.is(1, ProtoFields.LENGTH)) {
                    n.add(f.fields());
                } else if (f.is(12, ProtoFields.LENGTH)) {
                    n.graphOutputs.add(ProtoFields.firstString(f.fields(), 1));
                }
            }
            return n;
        }

        /** NodeProto: input 1, output 2, name 3, op_type 4. */
        private void add(List<Field> node) {
            int index = list.size();
            list.add(node);
            String name = ProtoFields.firstString(node, 3);
            Matcher m = BLOCK.matcher(name == null ? "" : name);
            block.add(m.find() ? Integer.parseInt(m.group(1)) : -1);
            ops.add(ProtoFields.firstString(node, 4));
            List<String> in = new ArrayList<>();
            for (Field f : node) {
                if (f.is(1, ProtoFields.LENGTH)) {
                    in.add(f.text());
                } else if (f.is(2, ProtoFields.LENGTH)) {
                    producer.put(f.text(), index);
                }
            }
            inputs.add(in);
        }

        int blockCount() {
            return block.stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        }

        /**
         * Block {@code n}'s streams: each output value (produced inside, used outside) mapped to the
         * input it carries forward through the residual additions; outputs that reach no input that
         * way, or more than one, are not streams.
         */
        Map<String, String> streams(int n) {
            Set<String> produced = new HashSet<>();
            for (int i = 0; i < list.size(); i++) {
                if (block.get(i) == n) {
                    for (Field f : list.get(i)) {
                        if (f.is(2, ProtoFields.LENGTH)) {
                            produced.add(f.text());
                        }
                    }
                }
            }
            Set<String> usedOutside = new java.util.LinkedHashSet<>();
            for (int i = 0; i < list.size(); i++) {
                if (block.get(i) != n) {
                    for (String in : inputs.get(i)) {
                        if (produced.contains(in)) {
                            usedOutside.add(in);
                        }
                    }
                }
            }
            Map<String, String> streams = new TreeMap<>();
            for (String output : usedOutside) {
                if (graphOutputs.contains(output)) {
                    continue; // a graph output cannot be renamed; no MMDiT export ends inside a block
                }
                Set<String> reached = residualInputs(output, n, produced);
                if (reached.size() == 1) {
                    streams.put(output, reached.iterator().next());
                }
            }
            return streams;
        }

        /**
         * The values from outside block {@code n} that {@code value} is reached from through residual ops
         * alone, at least one of them an addition (a cast of a shared value is no stream).
         */
        private Set<String> residualInputs(String value, int n, Set<String> produced) {
            Set<String> reached = new HashSet<>();
            Set<String> seen = new HashSet<>();
            List<Step> todo = new ArrayList<>(List.of(new Step(value, false)));
            while (!todo.isEmpty()) {
                Step step = todo.removeLast();
                if (!seen.add(step.value + step.added)) {
                    continue;
                }
                if (!produced.contains(step.value)) {
                    if (step.added) {
                        reached.add(step.value);
                    }
                    continue;
                }
                int p = producer.get(step.value);
                if (RESIDUAL_OPS.contains(ops.get(p))) {
                    boolean added = step.added || ops.get(p).equals("Add");
                    inputs.get(p).forEach(in -> todo.add(new Step(in, added)));
                }
            }
            // a value from outside that a residual Add reads is a stream only if a node computed it (the
            // previous block or the embedders), not if it is a weight, a graph input or a constant
            reached.removeIf(v -> !producer.containsKey(v) || "Constant".equals(ops.get(producer.get(v))));
            return reached;
        }

        private record Step(String value, boolean added) {
        }
    }

    private static byte[] node(String op, List<String> inputs, String output, String name) {
        List<Field> fields = new ArrayList<>();
        inputs.forEach(i -> fields.add(Field.string(1, i)));
        fields.add(Field.string(2, output));
        fields.add(Field.string(3, name));
        fields.add(Field.string(4, op));
        return ProtoFields.write(fields);
    }

    /** TensorProto: data_type 2, name 8, raw_data 9; a scalar. */
    private static byte[] int64Scalar(String name, long value) {
        byte[] raw = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
        return ProtoFields.write(List.of(Field.varint(2, INT64), Field.string(8, name), Field.message(9, raw)));
    }

    /** ValueInfoProto (name 1, type 2) of a float32 vector of {@code length}: TypeProto.tensor_type(1){elem_type 1, shape 2}. */
    private static byte[] floatVector(String name, int length) {
        byte[] dim = ProtoFields.write(List.of(Field.varint(1, length)));
        byte[] shape = ProtoFields.write(List.of(Field.message(1, dim)));
        byte[] tensor = ProtoFields.write(List.of(Field.varint(1, FLOAT), Field.message(2, shape)));
        byte[] type = ProtoFields.write(List.of(Field.message(1, tensor)));
        return ProtoFields.write(List.of(Field.string(1, name), Field.message(2, type)));
    }
}
