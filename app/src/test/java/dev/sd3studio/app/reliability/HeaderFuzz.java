package dev.sd3studio.app.reliability;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sd3studio.app.cli.Cli;
import dev.sd3studio.app.studio.Fixtures;
import dev.sd3studio.engine.Sd3Engine;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.EngineOptions;
import dev.sd3studio.engine.api.LoraSpec;
import dev.sd3studio.engine.api.Sd3Generator;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Lying model headers for the fuzz suite: ONNX protobufs (truncated, lengths beyond the file or the
 * enclosing message, a few bytes declaring gigabytes, byte flips) read by {@link Sd3Engine#layout}
 * and {@code check-model}, and safetensors LoRAs (header length beyond the file, offsets outside or
 * overlapping, dtype and shape not matching the bytes, huge declared shapes) read by
 * {@link Sd3Generator#loraReport} and {@code generate --lora}. Each must give a result or one named
 * {@link EngineException} (not INTERNAL), allocating a bounded amount of memory.
 */
final class HeaderFuzz {
    /** Far above what reading a header needs, far below what believing a lying one would take. */
    private static final long MAX_ALLOCATED = 256L << 20;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private HeaderFuzz() {
    }

    /** One call that either returns or throws the engine's named error. */
    private interface Probe {
        void run() throws EngineException;
    }

    static FuzzTally onnx(Path dir, Path model, long seed) throws Exception {
        FuzzTally t = new FuzzTally("lying ONNX headers");
        Random r = new Random(seed);
        String[] components = {"text_encoder", "text_encoder_2", "transformer", "vae_decoder"};
        Map<String, byte[]> cases = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++) {
            String c = components[r.nextInt(components.length)];
            byte[] b = Files.readAllBytes(model.resolve(c + "/model.onnx"));
            cases.put(c + "=truncated-" + i, Arrays.copyOf(b, r.nextInt(Math.min(b.length, 4096))));
        }
        for (int i = 0; i < 14; i++) {
            String c = components[r.nextInt(components.length)];
            byte[] b = Files.readAllBytes(model.resolve(c + "/model.onnx"));
            for (int k = 0; k < 1 + r.nextInt(6); k++) {
                // the header (graph, inputs, outputs) is where a flip changes what is read
                b[r.nextInt(Math.min(b.length, 2048))] ^= (byte) (1 + r.nextInt(255));
            }
            cases.put(c + "=flipped-" + i, b);
        }
        // ModelProto { ir_version: 8, graph: { input: <length L> } } with nothing behind it
        cases.put("vae_decoder=13-byte bomb", bytes(0x08, 0x08, 0x3a, 0x09, 0x5a, 0xf0, 0xff, 0xff, 0xff, 0x07, 0x0a, 0x01, 0x78));
        cases.put("transformer=10-byte varint length", bytes(0x08, 0x08, 0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff, 0x01));
        cases.put("text_encoder=varint without end", filled(65_536, 0xff));
        cases.put("text_encoder_2=input longer than its graph", inputBeyondGraph());
        cases.put("vae_decoder=empty", new byte[0]);
        cases.put("transformer=nested 50000 deep", nested(50_000));
        int i = 0;
        for (Map.Entry<String, byte[]> m : cases.entrySet()) {
            String component = m.getKey().substring(0, m.getKey().indexOf('='));
            Path copy = ModelCopies.withFile(model, dir.resolve("m" + i), component + "/model.onnx", m.getValue());
            try {
                judge(t, "onnx " + m.getKey(), () -> Sd3Engine.layout(copy));
                if (i % 8 == 0) { // the deep probe loads ONNX Runtime sessions: a few cases only
                    judgeCli(t, "check-model " + m.getKey(), "check-model", copy.toString());
                }
            } finally {
                ModelCopies.unlink(copy);
            }
            i++;
        }
        return t;
    }

    static FuzzTally safetensors(Path dir, long seed) throws Exception {
        FuzzTally t = new FuzzTally("lying safetensors headers");
        Random r = new Random(seed);
        Path model = Fixtures.root().resolve("models/tiny-sd3");
        byte[] good = Files.readAllBytes(Fixtures.root().resolve("goldens-lora/sd3_lora_rank4/lora.safetensors"));
        int headerLength = (int) ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        ObjectMapper json = new ObjectMapper();
        Map<String, byte[]> cases = new LinkedHashMap<>();
        for (long n : new long[] {good.length, good.length - 7, Long.MAX_VALUE, 1L << 40, -1, 0, 1}) {
            cases.put("header length " + n, withLength(good, n));
        }
        for (int i = 0; i < 5; i++) {
            cases.put("truncated " + i, Arrays.copyOf(good, r.nextInt(good.length)));
        }
        List<Consumer<ObjectNode>> headerLies = List.of(
                h -> offsets(first(h), 0, 1_000_000_000_000L),
                h -> offsets(first(h), good.length, good.length + 512),
                h -> offsets(first(h), -512, 0),
                h -> offsets(first(h), 512, 0),
                h -> { // two tensors over the same bytes
                    Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = h.fields();
                    ObjectNode a = (ObjectNode) it.next().getValue();
                    ((ObjectNode) it.next().getValue()).set("data_offsets", a.get("data_offsets"));
                },
                h -> first(h).put("dtype", "F64"),
                h -> first(h).put("dtype", "Q4_K"),
                h -> first(h).put("dtype", 7),
                h -> shape(first(h), 4, 64),
                h -> shape(first(h), -4, 32),
                h -> shape(first(h), 2_147_483_647L, 2_147_483_647L),
                h -> shape(first(h), 1L << 62, 16),
                h -> shape(first(h)),
                h -> first(h).put("shape", "4x32"),
                h -> first(h).remove("data_offsets"),
                h -> h.put("__metadata__", "not an object"),
                h -> h.putObject("__metadata__").put("x".repeat(10), "y".repeat(60_000)),
                h -> h.set(h.fieldNames().next(), json.getNodeFactory().textNode("garbage")));
        for (int i = 0; i < headerLies.size(); i++) {
            ObjectNode h = (ObjectNode) json.readTree(Arrays.copyOfRange(good, 8, 8 + headerLength));
            headerLies.get(i).accept(h);
            cases.put("header lie " + i, withHeader(good, headerLength, json.writeValueAsBytes(h)));
        }
        cases.put("header not json", withHeader(good, headerLength, "{\"a\": [1, 2".getBytes(StandardCharsets.UTF_8)));
        cases.put("header an array", withHeader(good, headerLength, "[1,2,3]".getBytes(StandardCharsets.UTF_8)));
        cases.put("header nested", withHeader(good, headerLength, "[".repeat(50_000).getBytes(StandardCharsets.UTF_8)));
        for (int i = 0; i < 6; i++) {
            byte[] b = good.clone();
            for (int k = 0; k < 1 + r.nextInt(4); k++) {
                b[8 + r.nextInt(headerLength)] ^= (byte) (1 + r.nextInt(255));
            }
            cases.put("header flipped " + i, b);
        }
        List<String> viaCli = List.of("header length " + Long.MAX_VALUE, "header lie 0", "header lie 11");
        try (Sd3Generator g = Sd3Engine.open(model, EngineOptions.defaults())) {
            int i = 0;
            for (Map.Entry<String, byte[]> m : cases.entrySet()) {
                Path lora = Files.write(dir.resolve("lora" + i++ + ".safetensors"), m.getValue());
                judge(t, "safetensors " + m.getKey(), () -> g.loraReport(List.of(new LoraSpec(lora, 1.0))));
                if (viaCli.contains(m.getKey())) {
                    Path out = dir.resolve("out" + i + ".png");
                    judgeCli(t, "generate --lora " + m.getKey(), "generate", "--model", model.toString(), "--prompt", "x",
                            "--width", "64", "--height", "64", "--steps", "1", "--lora", lora.toString(), "--out", out.toString());
                    if (Files.exists(out)) {
                        t.crashed("generate --lora " + m.getKey() + ": a picture was written with a lying LoRA");
                    }
                }
            }
        }
        return t;
    }

    private static void judge(FuzzTally t, String what, Probe probe) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        try {
            probe.run();
            bounded(t, what, before);
        } catch (EngineException e) {
            if (e.kind() == EngineException.Kind.INTERNAL || !FuzzTally.isOneCleanLine(e.getMessage())) {
                t.crashed(what + ": " + e.kind() + " " + e.getMessage());
            } else {
                bounded(t, what, before);
            }
        } catch (Throwable e) {
            t.crashed(what + ": " + e);
        }
    }

    private static void bounded(FuzzTally t, String what, long before) {
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        if (allocated > MAX_ALLOCATED) {
            t.crashed(what + ": allocated " + (allocated >> 20) + " MB");
        } else {
            t.handled();
        }
    }

    private static void judgeCli(FuzzTally t, String what, String... args) {
        StringWriter err = new StringWriter();
        int exit;
        try {
            exit = Cli.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args);
        } catch (Throwable e) {
            t.crashed(what + ": " + e);
            return;
        }
        String e = err.toString().strip();
        boolean named = e.lines().filter(l -> l.startsWith("error: ")).count() == 1 && !e.contains("unexpected failure")
                && !e.contains("Exception");
        if (exit == 0 || (exit == 1 || exit == 2) && named) {
            t.handled();
        } else {
            t.crashed(what + ": exit " + exit + ", " + e.replace('\n', '|'));
        }
    }

    private static ObjectNode first(ObjectNode h) {
        Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = h.fields();
        while (it.hasNext()) {
            Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e = it.next();
            if (!e.getKey().equals("__metadata__")) {
                return (ObjectNode) e.getValue();
            }
        }
        throw new IllegalStateException("no tensor");
    }

    private static void offsets(ObjectNode tensor, long begin, long end) {
        ArrayNode a = tensor.putArray("data_offsets");
        a.add(begin).add(end);
    }

    private static void shape(ObjectNode tensor, long... dims) {
        ArrayNode a = tensor.putArray("shape");
        for (long d : dims) {
            a.add(d);
        }
    }

    /** The file with its 8-byte header length replaced. */
    private static byte[] withLength(byte[] file, long n) {
        byte[] b = file.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
        return b;
    }

    /** The file with another header (and its length), the data bytes as they were. */
    private static byte[] withHeader(byte[] file, int oldLength, byte[] header) {
        byte[] b = new byte[8 + header.length + file.length - 8 - oldLength];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
        System.arraycopy(header, 0, b, 8, header.length);
        System.arraycopy(file, 8 + oldLength, b, 8 + header.length, file.length - 8 - oldLength);
        return b;
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /** graph { input: <length 20> } where the graph is 4 bytes long, a doc_string behind it. */
    private static byte[] inputBeyondGraph() {
        List<Byte> out = new ArrayList<>();
        for (byte v : bytes(0x3a, 0x04, 0x5a, 20, 0x0a, 0x01, 0x32, 30)) {
            out.add(v);
        }
        for (int i = 0; i < 30; i++) {
            out.add((byte) 'x');
        }
        byte[] b = new byte[out.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = out.get(i);
        }
        return b;
    }

    /** graph { graph { graph { … } } } as deep as asked, each a length-delimited field 7. */
    private static byte[] nested(int depth) {
        byte[] b = new byte[depth * 2];
        for (int i = 0; i < depth; i++) {
            b[2 * i] = 0x3a;
            b[2 * i + 1] = 0x7f; // a length the rest of the file never fills
        }
        return b;
    }
}
