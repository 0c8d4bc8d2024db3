package dev.sd3studio.engine.lora;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.Npy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes LoRA files and tiny ONNX graphs at test time; reads the LoRA goldens. */
public final class LoraTestFiles {
    private LoraTestFiles() {
    }

    /** A float32 tensor for a test file. */
    public record T(long[] shape, float[] data) {
    }

    public static Path loraGoldens() {
        return Fixtures.root().resolve("goldens-lora");
    }

    public static Path caseDir(String name) {
        return loraGoldens().resolve(name);
    }

    /** Every tensor of a safetensors file, as float32. */
    public static Map<String, T> readAll(Path file) throws Exception {
        Map<String, T> out = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (var e : r.tensors().values()) {
                out.put(e.name(), new T(e.shape(), r.readFloats(e.name())));
            }
        }
        return out;
    }

    public static Path writeF32(Path file, Map<String, T> tensors) throws IOException {
        return write(file, tensors, "F32");
    }

    /** A safetensors file with every tensor stored as {@code dtype} (F32, F16 or BF16). */
    public static Path write(Path file, Map<String, T> tensors, String dtype) throws IOException {
        int bytes = dtype.equals("F32") ? 4 : 2;
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (var e : tensors.entrySet()) {
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", dtype);
            var shape = n.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            ByteBuffer b = ByteBuffer.allocate(e.getValue().data().length * bytes).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : e.getValue().data()) {
                switch (dtype) {
                    case "F32" -> b.putFloat(v);
                    case "F16" -> b.putShort(Float.floatToFloat16(v));
                    default -> b.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
                }
            }
            n.putArray("data_offsets").add(data.size()).add(data.size() + b.capacity());
            data.writeBytes(b.array());
        }
        byte[] h = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.write(file, concat(len.array(), h, data.toByteArray()));
    }

    /**
     * The fixture's peft LoRA rewritten in the SD3 original / kohya layout: per block, q/k/v (and the
     * context add_q/k/v) fused into one {@code attn_qkv} layer with the three down matrices stacked and
     * a block-diagonal up matrix, alpha = the fused rank (so alpha / rank stays 1); every other layer
     * renamed with its alpha = rank.
     */
    /** The transformer layers of tiny-sd3 that the goldens' LoRAs leave alone: modulations, embedders, MLPs, output. */
    public static final List<String> EVERY_KIND_OF_LAYER = List.of("transformer_blocks.0.norm1.linear",
            "transformer_blocks.0.norm1_context.linear", "transformer_blocks.1.norm1.linear",
            "transformer_blocks.1.norm1_context.linear", "norm_out.linear", "transformer_blocks.0.ff.net.0.proj",
            "transformer_blocks.0.ff_context.net.2", "context_embedder", "time_text_embed.timestep_embedder.linear_1",
            "time_text_embed.text_embedder.linear_2", "proj_out");

    /**
     * A rank-2 diffusers LoRA on each of {@link #EVERY_KIND_OF_LAYER}, shaped after the tiny-sd3 export, with fixed
     * smooth values (alpha = rank).
     */
    public static Path everyKindOfLayer(Path file) throws Exception {
        var export = dev.sd3studio.engine.model.ModelFolder.detect(dev.sd3studio.engine.Fixtures.model("tiny-sd3"))
                .linearWeights(dev.sd3studio.engine.model.Component.TRANSFORMER).orElseThrow();
        Map<String, T> tensors = new java.util.TreeMap<>();
        int seed = 1;
        for (String module : EVERY_KIND_OF_LAYER) {
            var layer = export.byModulePath(module);
            if (layer.size() != 1) {
                throw new AssertionError(module + " is " + layer.size() + " layers of the tiny-sd3 export");
            }
            int in = (int) layer.getFirst().inFeatures();
            int out = (int) layer.getFirst().outFeatures();
            int rank = 2;
            float[] down = new float[rank * in];
            float[] up = new float[out * rank];
            for (int i = 0; i < down.length; i++) {
                down[i] = (float) (Math.sin(0.7 * i + seed) / Math.sqrt(in));
            }
            for (int i = 0; i < up.length; i++) {
                up[i] = 0.2f * (float) Math.cos(1.3 * i + seed);
            }
            seed++;
            tensors.put("transformer." + module + ".lora_A.weight", new T(new long[] {rank, in}, down));
            tensors.put("transformer." + module + ".lora_B.weight", new T(new long[] {out, rank}, up));
        }
        return writeF32(file, tensors);
    }

    public static Path toKohya(Path peft, Path out) throws Exception {
        Map<String, T> in = readAll(peft);
        Map<String, T> k = new LinkedHashMap<>();
        for (int block = 0; block < 64; block++) {
            String p = "transformer.transformer_blocks." + block + ".";
            if (!in.containsKey(p + "attn.to_q.lora_A.weight") && !in.containsKey(p + "attn.to_out.0.lora_A.weight")) {
                continue;
            }
            String o = "lora_unet_joint_blocks_" + block + "_";
            fuse(in, k, List.of(p + "attn.to_q", p + "attn.to_k", p + "attn.to_v"), o + "x_block_attn_qkv");
            fuse(in, k, List.of(p + "attn.add_q_proj", p + "attn.add_k_proj", p + "attn.add_v_proj"),
                    o + "context_block_attn_qkv");
            rename(in, k, p + "attn.to_out.0", o + "x_block_attn_proj");
            rename(in, k, p + "attn.to_add_out", o + "context_block_attn_proj");
            rename(in, k, p + "ff.net.0.proj", o + "x_block_mlp_fc1");
            rename(in, k, p + "ff.net.2", o + "x_block_mlp_fc2");
        }
        return writeF32(out, k);
    }

    private static void rename(Map<String, T> in, Map<String, T> out, String from, String to) {
        T a = in.get(from + ".lora_A.weight");
        if (a == null) {
            return;
        }
        out.put(to + ".lora_down.weight", a);
        out.put(to + ".lora_up.weight", in.get(from + ".lora_B.weight"));
        out.put(to + ".alpha", new T(new long[0], new float[] {a.shape()[0]}));
    }

    private static void fuse(Map<String, T> in, Map<String, T> out, List<String> parts, String to) {
        if (!in.containsKey(parts.getFirst() + ".lora_A.weight")) {
            return;
        }
        int r = (int) in.get(parts.getFirst() + ".lora_A.weight").shape()[0];
        int inF = (int) in.get(parts.getFirst() + ".lora_A.weight").shape()[1];
        int outF = (int) in.get(parts.getFirst() + ".lora_B.weight").shape()[0];
        int n = parts.size();
        float[] down = new float[n * r * inF];
        float[] up = new float[n * outF * n * r];
        for (int p = 0; p < n; p++) {
            float[] a = in.get(parts.get(p) + ".lora_A.weight").data();
            float[] b = in.get(parts.get(p) + ".lora_B.weight").data();
            System.arraycopy(a, 0, down, p * r * inF, r * inF);
            for (int row = 0; row < outF; row++) {
                for (int c = 0; c < r; c++) {
                    up[(p * outF + row) * (n * r) + p * r + c] = b[row * r + c];
                }
            }
        }
        out.put(to + ".lora_down.weight", new T(new long[] {n * r, inF}, down));
        out.put(to + ".lora_up.weight", new T(new long[] {n * outF, n * r}, up));
        out.put(to + ".alpha", new T(new long[0], new float[] {n * r}));
    }

    public static dev.sd3studio.engine.api.FloatTensor npy(Path dir, String name) throws IOException {
        return Npy.readFloat(dir.resolve(name + ".npy"));
    }

    /** W'−W per module, torch layout (out × in), from the case's {@code merged_weight_deltas.npz}. */
    public static Map<String, Npy.NpyArray> deltas(String caseName) throws IOException {
        return Npy.readArchive(caseDir(caseName).resolve("merged_weight_deltas.npz"));
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A small kohya-named LoRA on CLIP-L's layer-1 query projection of the tiny models (width 8, rank 2). */
    public static Path clipLQueryLora(Path file) throws java.io.IOException {
        int hidden = 8;
        int rank = 2;
        float[] down = new float[rank * hidden];
        float[] up = new float[hidden * rank];
        for (int i = 0; i < down.length; i++) {
            down[i] = (i % 5 - 2) * 0.3f;
            up[i] = (i % 3 - 1) * 0.4f;
        }
        String key = "lora_te1_text_model_encoder_layers_1_self_attn_q_proj";
        return writeF32(file, java.util.Map.of(
                key + ".lora_down.weight", new T(new long[] {rank, hidden}, down),
                key + ".lora_up.weight", new T(new long[] {hidden, rank}, up),
                key + ".alpha", new T(new long[0], new float[] {1})));
    }
}
