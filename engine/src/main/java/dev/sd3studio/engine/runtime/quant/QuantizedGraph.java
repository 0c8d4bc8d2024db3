package dev.sd3studio.engine.runtime.quant;

import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.format.ElementDecoder;
import dev.sd3studio.engine.format.ExternalDataFile;
import dev.sd3studio.engine.format.ProtoFields;
import dev.sd3studio.engine.format.TensorFields;
import dev.sd3studio.engine.format.ProtoFields.Field;
import dev.sd3studio.engine.format.SafetensorsDType;
import dev.sd3studio.engine.onnx.AttributeProto;
import dev.sd3studio.engine.onnx.NodeProto;
import dev.sd3studio.engine.onnx.StringStringEntryProto;
import dev.sd3studio.engine.onnx.TensorProto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A graph rewritten so that its large linear layers run on block-quantized weights: each {@code MatMul}
 * whose second input is a 2-D float32 or fp16 initializer [K, N] becomes a {@code com.microsoft.MatMulNBits}
 * (and each {@code Gemm} A·Bᵀ + C, the other layout, a MatMulNBits and an Add). The float weights leave
 * the graph; the quantized ones come from {@link QuantCache} and are declared as initializers that the
 * session gets in place ({@link QuantizedWeights#addTo}). Works on any model bytes (an export's file as
 * mapped, or a graph another rewrite made), so the engine's own graphs can go through it too.
 * <p>
 * Left as they are: layers under {@link QuantSettings#minElements()}, those {@code keep} names (the final
 * layer), everything that is not a linear layer (norms, embeddings, convolutions), weights of another type.
 */
public final class QuantizedGraph {
    private static final int FLOAT = 1;
    private static final int FLOAT16 = 10;
    /**
     * Stored types a weight may be widened from by a Cast before its layer (the checkpoint graphs do this for
     * every narrow weight); each is read and quantized from its own values.
     */
    private static final Map<Integer, SafetensorsDType> WIDENED_FROM = Map.of(
            FLOAT16, SafetensorsDType.F16, 16, SafetensorsDType.BF16,
            17, SafetensorsDType.F8_E4M3, 19, SafetensorsDType.F8_E5M2);
    static final String DOMAIN = "com.microsoft";

    /** The rewritten model and the weights its session must be given. */
    public record Rewritten(byte[] model, QuantizedWeights weights, int layers, long floatBytesReplaced) {
    }

    /** Where an initializer's bytes are. {@code inline} is a view of the parsed buffer, or null when external. */
    private record Tensor(String name, int dataType, long[] dims, ByteBuffer inline, Path file, long offset) {
        long elements() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }
    }

    /**
     * A node replaced: its index, the weight it reads, whether that is [K, N] (MatMul) or [N, K] (Gemm transB),
     * its bias (Gemm's C) or null, and the Cast that widens an fp16 weight for it (an export that keeps its
     * compute in float32), or null.
     */
    private record Candidate(int index, String weight, boolean kMajor, String bias, String widenedBy) {
        /** The scales follow A's type: fp16 only for an fp16 weight read directly. */
        boolean halfScales(Map<String, Tensor> tensors) {
            return widenedBy == null && tensors.get(weight).dataType() == FLOAT16;
        }
    }

    private QuantizedGraph() {
    }

    /**
     * Names of the layers kept in their stored type in an MMDiT: the final projection and its modulation
     * (the step's output comes straight out of them).
     */
    public static final Predicate<String> FINAL_LAYER = name -> name.contains("proj_out") || name.contains("norm_out");

    /**
     * Rewrites {@code model}, the content of {@code modelFile} when {@code bufferIsFile} (its inline weights are
     * then referenced in place there), else a rewritten graph whose weights already point into that folder.
     *
     * @param keep       node or weight names to leave as they are
     * @param overrides  LoRA-merged weights (by initializer name) that replace stored ones; their layers are
     *                   quantized without caching
     * @return empty when nothing in the graph qualifies
     */
    public static Optional<Rewritten> rewrite(ByteBuffer model, Path modelFile, boolean bufferIsFile,
                                              QuantSettings settings, Predicate<String> keep, QuantCache cache,
                                              Map<String, ByteBuffer> overrides) throws EngineException, IOException {
        List<Field> modelFields = ProtoFields.parse(model, 0);
        int graphAt = -1;
        for (int i = 0; i < modelFields.size(); i++) {
            if (modelFields.get(i).is(7, ProtoFields.LENGTH)) {
                graphAt = i;
            }
        }
        if (graphAt < 0) {
            return Optional.empty();
        }
        List<Field> graph = modelFields.get(graphAt).fields();
        List<List<Field>> nodes = new ArrayList<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, Integer> uses = new HashMap<>();
        Set<Path> sources = new LinkedHashSet<>();
        sources.add(modelFile.toAbsolutePath());
        for (Field f : graph) {
            if (f.is(1, ProtoFields.LENGTH)) {
                List<Field> node = f.fields();
                nodes.add(node);
                for (Field in : node) {
                    if (in.is(1, ProtoFields.LENGTH)) {
                        uses.merge(in.text(), 1, Integer::sum);
                    }
                }
            } else if (f.is(5, ProtoFields.LENGTH)) {
                Tensor t = tensor(modelFile, f.fields());
                if (t != null) {
                    tensors.put(t.name(), t);
                    if (t.file() != null) {
                        sources.add(t.file());
                    }
                }
            } else if (f.is(12, ProtoFields.LENGTH)) {
                uses.merge(ProtoFields.firstString(f.fields(), 1), 1, Integer::sum); // graph outputs
            }
        }
        Map<String, String> fp16Widened = widenedWeights(nodes, tensors);
        List<Candidate> candidates = new ArrayList<>();
        Map<String, CandidateWeight> weights = new LinkedHashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            Candidate c = candidate(nodes.get(i), i, tensors, fp16Widened, settings, keep);
            if (c != null) {
                candidates.add(c);
                Tensor t = tensors.get(c.weight());
                weights.putIfAbsent(c.weight(), new CandidateWeight(t, c.kMajor(), c.halfScales(tensors)));
            }
        }
        // a weight read both as [K, N] and [N, K], or both directly and widened, is left alone
        candidates.removeIf(c -> weights.get(c.weight()).kMajor() != c.kMajor()
                || weights.get(c.weight()).halfScales() != c.halfScales(tensors));
        Map<String, Integer> candidateUses = new HashMap<>();
        candidates.forEach(c -> candidateUses.merge(c.widenedBy() != null ? c.widenedBy() : c.weight(), 1, Integer::sum));
        if (candidates.isEmpty()) {
            return Optional.empty();
        }
        List<QuantCache.Job> cachedJobs = new ArrayList<>();
        List<QuantCache.Job> mergedJobs = new ArrayList<>();
        Set<String> jobNames = new LinkedHashSet<>();
        candidates.forEach(c -> jobNames.add(c.weight()));
        long floatBytes = 0;
        for (String name : jobNames) {
            CandidateWeight w = weights.get(name);
            Tensor t = w.tensor();
            int k = (int) (w.kMajor() ? t.dims()[0] : t.dims()[1]);
            int n = (int) (w.kMajor() ? t.dims()[1] : t.dims()[0]);
            BlockLayout layout = new BlockLayout(k, n, settings.bits(), settings.blockSize());
            floatBytes += t.elements() * storedType(t).bytes();
            ByteBuffer merged = overrides.get(name);
            if (merged != null) {
                mergedJobs.add(new QuantCache.Job(name, layout, w.kMajor(), w.halfScales(),
                        () -> floats(merged, storedType(t), t.elements())));
            } else {
                cachedJobs.add(new QuantCache.Job(name, layout, w.kMajor(), w.halfScales(), () -> read(t)));
            }
        }
        QuantizedWeights quantized = mergedJobs.isEmpty()
                ? cache.load(modelFile, List.copyOf(sources), settings, cachedJobs)
                : cache.uncached(concat(cachedJobs, mergedJobs)); // a LoRA-merged component is not reused across starts
        try {
            byte[] graphBytes = rewriteGraph(graph, nodes, candidates, quantized, uses, candidateUses,
                    modelFile.getFileName().toString(), bufferIsFile, settings);
            List<Field> out = new ArrayList<>(modelFields);
            out.set(graphAt, Field.message(7, graphBytes));
            addOpset(out);
            return Optional.of(new Rewritten(ProtoFields.write(out), quantized, candidates.size(), floatBytes));
        } catch (RuntimeException e) {
            quantized.close();
            throw e;
        }
    }

    private record CandidateWeight(Tensor tensor, boolean kMajor, boolean halfScales) {
    }

    /** Outputs of {@code Cast(to = float)} nodes whose input is a 2-D fp16, bf16 or float8 initializer → that initializer. */
    private static Map<String, String> widenedWeights(List<List<Field>> nodes, Map<String, Tensor> tensors) {
        Map<String, String> widened = new HashMap<>();
        for (List<Field> node : nodes) {
            if (!"Cast".equals(ProtoFields.firstString(node, 4))) {
                continue;
            }
            String input = ProtoFields.firstString(node, 1);
            String output = ProtoFields.firstString(node, 2);
            Tensor t = input == null ? null : tensors.get(input);
            long to = -1;
            for (Field f : node) {
                if (f.is(5, ProtoFields.LENGTH) && "to".equals(ProtoFields.firstString(f.fields(), 1))) {
                    to = ProtoFields.firstVarint(f.fields(), 3, -1);
                }
            }
            if (t != null && output != null && to == FLOAT && WIDENED_FROM.containsKey(t.dataType()) && t.dims().length == 2) {
                widened.put(output, input);
            }
        }
        return widened;
    }

    private static List<QuantCache.Job> concat(List<QuantCache.Job> a, List<QuantCache.Job> b) {
        List<QuantCache.Job> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** A MatMul [.., K]·[K, N] or a Gemm A·Bᵀ (+ C) with alpha = beta = 1, on a large float initializer. */
    private static Candidate candidate(List<Field> node, int index, Map<String, Tensor> tensors,
                                       Map<String, String> fp16Widened, QuantSettings settings, Predicate<String> keep) {
        String op = ProtoFields.firstString(node, 4);
        String domain = ProtoFields.firstString(node, 7);
        if (domain != null && !domain.isEmpty() && !domain.equals("ai.onnx")) {
            return null;
        }
        List<String> inputs = new ArrayList<>();
        Map<String, List<Field>> attributes = new HashMap<>();
        for (Field f : node) {
            if (f.is(1, ProtoFields.LENGTH)) {
                inputs.add(f.text());
            } else if (f.is(5, ProtoFields.LENGTH)) {
                attributes.put(ProtoFields.firstString(f.fields(), 1), f.fields());
            }
        }
        if (inputs.size() < 2) {
            return null;
        }
        boolean kMajor;
        String bias = null;
        if ("MatMul".equals(op)) {
            kMajor = true;
        } else if ("Gemm".equals(op)) {
            if (intAttribute(attributes, "transA", 0) != 0 || floatAttribute(attributes, "alpha", 1) != 1
                    || floatAttribute(attributes, "beta", 1) != 1) {
                return null;
            }
            kMajor = intAttribute(attributes, "transB", 0) == 0;
            bias = inputs.size() > 2 && !inputs.get(2).isEmpty() ? inputs.get(2) : null;
        } else {
            return null;
        }
        String widenedBy = fp16Widened.containsKey(inputs.get(1)) ? inputs.get(1) : null;
        Tensor w = tensors.get(widenedBy != null ? fp16Widened.get(widenedBy) : inputs.get(1));
        String name = Objects.requireNonNullElse(ProtoFields.firstString(node, 3), "");
        if (w == null || w.dims().length != 2 || (w.dataType() != FLOAT && w.dataType() != FLOAT16 && widenedBy == null)
                || w.elements() < settings.minElements() || w.elements() > Integer.MAX_VALUE - 8
                || keep.test(name) || keep.test(w.name())) {
            return null;
        }
        return new Candidate(index, w.name(), kMajor, bias, widenedBy);
    }

    private static byte[] rewriteGraph(List<Field> graph, List<List<Field>> nodes, List<Candidate> candidates,
                                       QuantizedWeights quantized, Map<String, Integer> uses,
                                       Map<String, Integer> candidateUses, String fileName, boolean bufferIsFile,
                                       QuantSettings settings) {
        Map<Integer, Candidate> byIndex = new HashMap<>();
        candidates.forEach(c -> byIndex.put(c.index(), c));
        Set<String> dropped = new java.util.HashSet<>();
        Set<String> droppedCasts = new java.util.HashSet<>();
        for (Candidate c : candidates) {
            if (c.widenedBy() == null && Objects.equals(uses.get(c.weight()), candidateUses.get(c.weight()))) {
                dropped.add(c.weight()); // no other reader: the float weight leaves the graph
            } else if (c.widenedBy() != null && Objects.equals(uses.get(c.widenedBy()), candidateUses.get(c.widenedBy()))) {
                droppedCasts.add(c.widenedBy()); // its Cast has no other reader: both leave
                if (Objects.equals(uses.get(c.weight()), 1)) {
                    dropped.add(c.weight());
                }
            }
        }
        List<Field> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            Candidate c = byIndex.get(i);
            if (c == null && "Cast".equals(ProtoFields.firstString(nodes.get(i), 4))
                    && droppedCasts.contains(ProtoFields.firstString(nodes.get(i), 2))) {
                continue;
            }
            if (c == null) {
                out.add(Field.message(1, ProtoFields.write(nodes.get(i))));
            } else {
                replacement(nodes.get(i), c, quantized.get(c.weight()), settings).forEach(n -> out.add(Field.message(1, n)));
            }
        }
        for (Field f : graph) {
            if (f.is(1, ProtoFields.LENGTH)) {
                continue;
            }
            if (f.is(5, ProtoFields.LENGTH)) {
                String name = ProtoFields.firstString(f.fields(), 8);
                if (dropped.contains(name)) {
                    continue;
                }
                out.add(bufferIsFile ? Field.message(5, dev.sd3studio.engine.runtime.InlineWeights.referencedInPlace(
                        f.fields(), fileName)) : f);
            } else if (f.is(11, ProtoFields.LENGTH) && dropped.contains(ProtoFields.firstString(f.fields(), 1))) {
                continue; // older exports list weights among the inputs
            } else {
                out.add(f);
            }
        }
        for (QuantizedWeights.Weight w : quantized.all()) {
            BlockLayout l = w.layout();
            out.add(Field.message(5, declared(w.packedName(), TensorProto.DataType.UINT8_VALUE,
                    List.of((long) l.n(), (long) l.blocks(), (long) l.blobBytes()), l.packedBytes(), fileName)));
            out.add(Field.message(5, declared(w.scalesName(), w.halfScales() ? FLOAT16 : FLOAT,
                    List.of(l.scaleCount()), w.scales().capacity(), fileName)));
            out.add(Field.message(5, declared(w.zeroPointsName(), TensorProto.DataType.UINT8_VALUE,
                    List.of(l.zeroPointBytes()), l.zeroPointBytes(), fileName)));
        }
        return ProtoFields.write(out);
    }

    /**
     * The declaration of a quantized initializer. Its bytes come from the session's external initializers,
     * which replace it before anything is read, so the location it names is never opened.
     */
    private static byte[] declared(String name, int dataType, List<Long> dims, long bytes, String fileName) {
        return TensorProto.newBuilder().setName(name).setDataType(dataType).addAllDims(dims)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", fileName))
                .addExternalData(entry("offset", "0"))
                .addExternalData(entry("length", Long.toString(bytes)))
                .build().toByteArray();
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** The MatMulNBits node (and the Add of a Gemm's bias) that replace {@code node}. */
    private static List<byte[]> replacement(List<Field> node, Candidate c, QuantizedWeights.Weight w,
                                            QuantSettings settings) {
        String a = null;
        String output = null;
        for (Field f : node) {
            if (f.is(1, ProtoFields.LENGTH) && a == null) {
                a = f.text();
            } else if (f.is(2, ProtoFields.LENGTH) && output == null) {
                output = f.text();
            }
        }
        String name = Objects.requireNonNullElse(ProtoFields.firstString(node, 3), output);
        String product = c.bias() == null ? output : output + "_nbits";
        List<byte[]> out = new ArrayList<>();
        out.add(matMulNBits(name + "_Q" + w.layout().bits(), a, w.packedName(), w.scalesName(), w.zeroPointsName(),
                product, w.layout(), settings.accuracyLevel()));
        if (c.bias() != null) {
            out.add(NodeProto.newBuilder().setName(name + "_bias").setOpType("Add").addInput(product)
                    .addInput(c.bias()).addOutput(output).build().toByteArray());
        }
        return out;
    }

    /** A {@code com.microsoft.MatMulNBits} node: Y = A · dequantized(B)ᵀ, B given as [N, blocks, blob]. */
    public static byte[] matMulNBits(String name, String a, String packed, String scales, String zeroPoints,
                                     String output, BlockLayout layout, int accuracyLevel) {
        return NodeProto.newBuilder().setName(name).setOpType("MatMulNBits").setDomain(DOMAIN)
                .addInput(a).addInput(packed).addInput(scales).addInput(zeroPoints).addOutput(output)
                .addAttribute(intAttribute("K", layout.k()))
                .addAttribute(intAttribute("N", layout.n()))
                .addAttribute(intAttribute("bits", layout.bits()))
                .addAttribute(intAttribute("block_size", layout.blockSize()))
                .addAttribute(intAttribute("accuracy_level", accuracyLevel))
                .build().toByteArray();
    }

    private static AttributeProto intAttribute(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    /** ModelProto.opset_import (8): com.microsoft version 1 is added when the model does not import it. */
    private static void addOpset(List<Field> model) {
        for (Field f : model) {
            if (f.is(8, ProtoFields.LENGTH) && DOMAIN.equals(ProtoFields.firstString(f.fields(), 1))) {
                return;
            }
        }
        model.add(Field.message(8, ProtoFields.write(List.of(Field.string(1, DOMAIN), Field.varint(2, 1)))));
    }

    private static long intAttribute(Map<String, List<Field>> attributes, String name, long absent) {
        List<Field> a = attributes.get(name);
        return a == null ? absent : ProtoFields.firstVarint(a, 3, absent);
    }

    /** AttributeProto.f (2), a fixed32 float. */
    private static float floatAttribute(Map<String, List<Field>> attributes, String name, float absent) {
        List<Field> a = attributes.get(name);
        if (a == null) {
            return absent;
        }
        Field f = ProtoFields.first(a, 2);
        return f == null || f.wireType() != ProtoFields.FIXED32 ? absent
                : f.body().duplicate().order(ByteOrder.LITTLE_ENDIAN).getFloat();
    }

    /**
     * An initializer's name, type, shape and place; null for storage we do not read (typed data fields,
     * external data without a location). TensorProto: dims 1, data_type 2, name 8, raw_data 9, external_data 13,
     * data_location 14.
     */
    private static Tensor tensor(Path modelFile, List<Field> fields) throws EngineException {
        TensorFields t = TensorFields.parse(fields);
        if (t == null) {
            return null;
        }
        if (t.isExternal()) {
            TensorFields.ExternalRef ref = t.externalRef();
            if (ref == null) {
                return null;
            }
            return new Tensor(t.name(), t.dataType(), t.dims(), null,
                    ExternalDataFile.resolve(modelFile, ref.location(), ref.offset(), ref.length()), ref.offset());
        }
        Field raw = t.inline();
        return raw == null || raw.wireType() != ProtoFields.LENGTH ? null
                : new Tensor(t.name(), t.dataType(), t.dims(), raw.body(), null, 0);
    }

    private static SafetensorsDType storedType(Tensor t) {
        return t.dataType() == FLOAT ? SafetensorsDType.F32 : WIDENED_FROM.get(t.dataType());
    }

    private static float[] read(Tensor t) throws IOException {
        SafetensorsDType type = storedType(t);
        long bytes = t.elements() * type.bytes();
        if (t.inline() != null) {
            if (t.inline().remaining() != bytes) {
                throw new IOException("weight " + t.name() + " has " + t.inline().remaining() + " bytes where its shape needs " + bytes);
            }
            return floats(t.inline(), type, t.elements());
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(bytes));
        try (FileChannel ch = FileChannel.open(t.file(), StandardOpenOption.READ)) {
            if (t.offset() + bytes > ch.size()) {
                throw new IOException("weight " + t.name() + " lies beyond the end of " + t.file());
            }
            long pos = t.offset();
            while (b.hasRemaining()) {
                int r = ch.read(b, pos);
                if (r < 0) {
                    throw new IOException("unexpected end of " + t.file());
                }
                pos += r;
            }
        }
        return floats(b.flip(), type, t.elements());
    }

    private static float[] floats(ByteBuffer data, SafetensorsDType type, long elements) {
        float[] out = new float[Math.toIntExact(elements)];
        ElementDecoder.decode(type, data.duplicate(), out);
        return out;
    }
}
