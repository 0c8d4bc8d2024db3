package dev.sd3studio.engine.graph;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sd3studio.engine.Fixtures;
import dev.sd3studio.engine.api.CancelToken;
import dev.sd3studio.engine.api.Device;
import dev.sd3studio.engine.api.EngineException;
import dev.sd3studio.engine.api.FloatTensor;
import dev.sd3studio.engine.checkpoint.Checkpoint;
import dev.sd3studio.engine.checkpoint.CheckpointComponent;
import dev.sd3studio.engine.checkpoint.CheckpointOpener;
import dev.sd3studio.engine.checkpoint.CheckpointOptions;
import dev.sd3studio.engine.checkpoint.ComponentWeights;
import dev.sd3studio.engine.checkpoint.WeightNaming;
import dev.sd3studio.engine.checkpoint.WeightRef;
import dev.sd3studio.engine.format.ElementDecoder;
import dev.sd3studio.engine.format.SafetensorsDType;
import dev.sd3studio.engine.format.SafetensorsHeader;
import dev.sd3studio.engine.format.StoredTensor;
import dev.sd3studio.engine.format.TestSafetensors;
import dev.sd3studio.engine.format.TestSafetensors.Tensor;
import dev.sd3studio.engine.onnx.ModelProto;
import dev.sd3studio.engine.onnx.ValueInfoProto;
import dev.sd3studio.engine.runtime.OnnxModel;
import dev.sd3studio.engine.runtime.OrtRuntime;
import dev.sd3studio.engine.runtime.SkipLayerGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MMDiT built from checkpoint weights predicts what the exported transformer with the same weights does:
 * SD3.5 (QK-norm, dual attention) from a Stability AI single file in the original names, SD3 from a diffusers
 * folder; reduced-precision files compute from their stored values; the skippable variant bypasses blocks as
 * {@link SkipLayerGraph} does to the export; a config that does not fit the weights is refused by name.
 * Inputs: batch 2, a non-square 8×12 latent, 90 tokens (77 + 13), two different timesteps.
 */
class MmditGraphTest {
    private static final String FOLDER_OPTION = "session.model_external_initializers_file_folder_path";
    private static final String OUTPUT = "out_hidden_states";
    private static final float TOLERANCE = 1e-4f;
    private static final OrtRuntime CPU = new OrtRuntime(Device.CPU);
    private static final Map<String, FloatTensor> INPUTS = inputs(new Random(20));

    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({"tiny-sd35-sai-fp32/tiny-sd35.safetensors, tiny-sd35, ORIGINAL",
            "tiny-sd3-diffusers-fp32, tiny-sd3, DIFFUSERS"})
    void theBuiltGraphPredictsWhatTheExportWithTheSameWeightsDoes(String checkpoint, String model, WeightNaming naming)
            throws Exception {
        Checkpoint c = open(checkpoint);
        assertEquals(naming, c.require(CheckpointComponent.TRANSFORMER).naming());
        ModelProto built = MmditGraph.build(c, false);
        FloatTensor ours = runBuilt(built, c.require(CheckpointComponent.TRANSFORMER).folder(), null);
        FloatTensor theirs = runExport(model, null);
        assertArrayEquals(new long[] {2, 16, 8, 12}, ours.shape());
        assertArrayEquals(theirs.shape(), ours.shape());
        float diff = maxDiff(ours, theirs);
        System.out.printf("%s vs export %s: max abs diff %.3g (output max |x| %.3g)%n", checkpoint, model, diff, maxAbs(theirs));
        assertTrue(diff <= TOLERANCE, checkpoint + " differs from " + model + "'s export by " + diff);
    }

    /**
     * No fixture holds SD3.5 in diffusers' names (norm_added_q, attn2.to_q, …), so the single file's tensors are
     * renamed here as diffusers' converter does (q|k|v cut apart, the last (shift, scale) pairs swapped) into a
     * file of diffusers' layout, whose graph must predict what the export does too.
     */
    @Test
    void sd35InDiffusersNamesPredictsWhatTheExportDoes() throws Exception {
        Checkpoint c = open("tiny-sd35-sai-fp32/tiny-sd35.safetensors");
        ComponentWeights renamed = diffusersCopy(c.require(CheckpointComponent.TRANSFORMER), 2);
        assertTrue(renamed.has("transformer_blocks.0.attn.norm_added_q.weight")
                && renamed.has("transformer_blocks.0.attn2.to_q.weight"), "the copy has SD3.5's diffusers names");
        var config = c.configs().require(CheckpointComponent.TRANSFORMER, c.source());
        FloatTensor ours = runBuilt(MmditGraph.build(renamed, MmditGraph.Settings.of(config.json(), config.source()),
                false), renamed.folder(), null);
        float diff = maxDiff(ours, runExport("tiny-sd35", null));
        System.out.printf("tiny-sd35 in diffusers names vs export: max abs diff %.3g%n", diff);
        assertTrue(diff <= TOLERANCE, "SD3.5 in diffusers names differs from the export by " + diff);
    }

    @ParameterizedTest
    @CsvSource({"tiny-sd3", "tiny-sd35"})
    void theInterfaceIsTheExportsInputsAndOutput(String model) throws Exception {
        String checkpoint = model.equals("tiny-sd3") ? "tiny-sd3-diffusers-fp32" : "tiny-sd35-sai-fp32/tiny-sd35.safetensors";
        ModelProto built = MmditGraph.build(open(checkpoint), false);
        ModelProto export = ModelProto.parseFrom(Files.readAllBytes(Fixtures.model(model).resolve("transformer/model.onnx")));
        assertEquals(signature(export.getGraph().getInputList()), signature(built.getGraph().getInputList()));
        assertEquals(signature(export.getGraph().getOutputList()).getFirst().split(" ")[0],
                signature(built.getGraph().getOutputList()).getFirst().split(" ")[0]);
    }

    /**
     * F16 and BF16 files: the graph computes in float32 from the stored values, so it equals the graph built from
     * an F32 file of those very values (widened here in Java) to float rounding. Against the export of the unrounded
     * model the bound is the weights' rounding: each weight is off by at most the format's unit roundoff u (2^-11 for
     * F16's 11 significant bits, 2^-8 for BF16's 8), and the tiny model, whose layers neither amplify nor cancel much,
     * moves its prediction by about that fraction of its size (measured 0.6u and 0.7u); 2u of the largest output
     * leaves room for other seeds and tells the F16 file from the BF16 one's four times larger error.
     */
    @ParameterizedTest
    @CsvSource({"tiny-sd3-comfy-fp16/tiny-sd3.safetensors, F16, 11", "tiny-sd3-diffusers-bf16, BF16, 8"})
    void reducedPrecisionFilesComputeFromTheirStoredValues(String checkpoint, SafetensorsDType dtype, int significantBits)
            throws Exception {
        float relative = 2 * (float) Math.pow(2, -significantBits);
        Checkpoint c = open(checkpoint);
        ComponentWeights stored = c.require(CheckpointComponent.TRANSFORMER);
        assertTrue(stored.weights().values().stream().allMatch(w -> w.dtype() == dtype), checkpoint + " is all " + dtype);
        FloatTensor ours = runBuilt(MmditGraph.build(c, false), stored.folder(), null);

        ComponentWeights widened = widenedCopy(stored);
        var config = c.configs().require(CheckpointComponent.TRANSFORMER, c.source());
        FloatTensor fromF32 = runBuilt(MmditGraph.build(widened, MmditGraph.Settings.of(config.json(), config.source()),
                false), widened.folder(), null);
        float same = maxDiff(ours, fromF32);

        FloatTensor export = runExport("tiny-sd3", null);
        float rounding = maxDiff(ours, export);
        System.out.printf("%s: vs its values in F32 %.3g, vs the F32 export %.3g (output max |x| %.3g)%n",
                checkpoint, same, rounding, maxAbs(export));
        assertTrue(same <= 1e-5f, checkpoint + " differs from its own values in F32 by " + same);
        assertTrue(rounding <= relative * maxAbs(export), checkpoint + " differs from the export by " + rounding);
    }

    @ParameterizedTest
    @CsvSource({"tiny-sd35-sai-fp32/tiny-sd35.safetensors, tiny-sd35", "tiny-sd3-diffusers-fp32, tiny-sd3"})
    void theSkippableGraphBypassesBlocksAsSkipLayerGraphDoesToTheExport(String checkpoint, String model) throws Exception {
        Checkpoint c = open(checkpoint);
        Path folder = c.require(CheckpointComponent.TRANSFORMER).folder();
        ModelProto skippable = MmditGraph.build(c, true);
        ValueInfoProto skipInput = skippable.getGraph().getInputList().stream()
                .filter(i -> i.getName().equals(SkipLayerGraph.INPUT)).findFirst().orElseThrow();
        assertEquals(2, skipInput.getType().getTensorType().getShape().getDim(0).getDimValue());

        FloatTensor plain = runBuilt(MmditGraph.build(c, false), folder, null);
        FloatTensor none = runBuilt(skippable, folder, new float[] {0, 0});
        assertTrue(maxDiff(plain, none) <= 1e-6f, "skipping no block: " + maxDiff(plain, none));
        for (int block = 0; block < 2; block++) {
            float[] skip = new float[2];
            skip[block] = 1;
            FloatTensor ours = runBuilt(skippable, folder, skip);
            FloatTensor theirs = runExport(model, skip);
            float diff = maxDiff(ours, theirs);
            System.out.printf("%s skipping block %d vs rewired export: max abs diff %.3g%n", checkpoint, block, diff);
            assertTrue(maxDiff(ours, plain) > 1e-3f, "skipping block " + block + " changes the prediction");
            assertTrue(diff <= TOLERANCE, "skipping block " + block + ": differs from the rewired export by " + diff);
        }
    }

    @Test
    void aConfigThatDoesNotFitTheWeightsIsRefusedByName() throws Exception {
        Checkpoint c = open("tiny-sd3-diffusers-fp32");
        ComponentWeights weights = c.require(CheckpointComponent.TRANSFORMER);
        ObjectNode config = ((ObjectNode) c.configs().require(CheckpointComponent.TRANSFORMER, c.source()).json()).deepCopy();

        config.put("num_attention_heads", 3);
        EngineException e = assertThrows(EngineException.class,
                () -> MmditGraph.build(weights, MmditGraph.Settings.of(config, "my/config.json"), false));
        assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, e.kind());
        assertTrue(e.getMessage().contains("3 attention heads") && e.getMessage().contains("width 32"), e.getMessage());

        config.put("num_attention_heads", 4).put("qk_norm", "rms_norm");
        e = assertThrows(EngineException.class,
                () -> MmditGraph.build(weights, MmditGraph.Settings.of(config, "my/config.json"), false));
        assertEquals(EngineException.Kind.INCOMPATIBLE_MODEL, e.kind());
        assertTrue(e.getMessage().contains("QK-norm of block 0"), e.getMessage());

        config.put("qk_norm", "layer_norm");
        e = assertThrows(EngineException.class, () -> MmditGraph.Settings.of(config, "my/config.json"));
        assertTrue(e.getMessage().contains("my/config.json") && e.getMessage().contains("layer_norm"), e.getMessage());

        config.putNull("qk_norm").put("num_layers", 3);
        e = assertThrows(EngineException.class,
                () -> MmditGraph.build(weights, MmditGraph.Settings.of(config, "my/config.json"), false));
        assertTrue(e.getMessage().contains("3 blocks"), e.getMessage());
    }

    private static Checkpoint open(String relative) throws EngineException {
        return CheckpointOpener.open(Fixtures.root().resolve("checkpoints").resolve(relative), CheckpointOptions.NONE);
    }

    private static Map<String, FloatTensor> inputs(Random random) {
        Map<String, FloatTensor> in = new HashMap<>();
        in.put("hidden_states", gaussian(random, 2, 16, 8, 12));
        in.put("encoder_hidden_states", gaussian(random, 2, 90, 32));
        in.put("pooled_projections", gaussian(random, 2, 20));
        in.put("timestep", new FloatTensor(new long[] {2}, new float[] {937.5f, 212.25f}));
        return Map.copyOf(in);
    }

    private static FloatTensor gaussian(Random random, long... shape) {
        float[] v = new float[(int) FloatTensor.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return new FloatTensor(shape, v);
    }

    /** Names, element types and fixed dims of a graph's inputs or outputs, in order. */
    private static List<String> signature(List<ValueInfoProto> values) {
        List<String> out = new ArrayList<>();
        for (ValueInfoProto v : values) {
            var t = v.getType().getTensorType();
            StringBuilder s = new StringBuilder(v.getName() + " " + t.getElemType() + " [");
            for (var d : t.getShape().getDimList()) {
                s.append(d.hasDimValue() ? Long.toString(d.getDimValue()) : "?").append(',');
            }
            out.add(s.append(']').toString());
        }
        return out;
    }

    private static FloatTensor runBuilt(ModelProto model, Path folder, float[] skip) throws Exception {
        OrtEnvironment env = OrtRuntime.environment();
        Map<String, FloatTensor> in = new HashMap<>(INPUTS);
        if (skip != null) {
            in.put(SkipLayerGraph.INPUT, new FloatTensor(new long[] {skip.length}, skip));
        }
        Map<String, OnnxTensor> tensors = new HashMap<>();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.addConfigEntry(FOLDER_OPTION, folder.toString());
            try (OrtSession session = env.createSession(model.toByteArray(), options)) {
                for (var e : in.entrySet()) {
                    tensors.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue().data()),
                            e.getValue().shape()));
                }
                try (OrtSession.Result result = session.run(tensors)) {
                    OnnxTensor out = (OnnxTensor) result.get(OUTPUT).orElseThrow();
                    FloatBuffer b = out.getFloatBuffer();
                    float[] values = new float[b.remaining()];
                    b.get(values);
                    return new FloatTensor(out.getInfo().getShape(), values);
                }
            } finally {
                tensors.values().forEach(OnnxTensor::close);
            }
        }
    }

    /** The exported transformer of {@code model}, rewired by {@link SkipLayerGraph} when {@code skip} is given. */
    private static FloatTensor runExport(String model, float[] skip) throws Exception {
        Path file = Fixtures.model(model).resolve("transformer/model.onnx");
        Map<String, FloatTensor> in = new HashMap<>(INPUTS);
        if (skip != null) {
            in.put(SkipLayerGraph.INPUT, new FloatTensor(new long[] {skip.length}, skip));
        }
        try (OnnxModel m = OnnxModel.open(CPU, "transformer", file, null, skip != null)) {
            return m.run(in, Map.of(), List.of(OUTPUT), CancelToken.none()).get(OUTPUT);
        }
    }

    /** The transformer's tensors decoded to F32 in a file of their own, referenced as the checkpoint's are. */
    private ComponentWeights widenedCopy(ComponentWeights stored) throws Exception {
        List<Tensor> tensors = new ArrayList<>();
        for (var e : stored.weights().entrySet()) {
            WeightRef w = e.getValue();
            ByteBuffer bytes = ByteBuffer.allocate((int) w.length());
            try (FileChannel ch = FileChannel.open(w.file())) {
                SafetensorsHeader.readFully(ch, bytes, w.offset());
            }
            float[] values = new float[(int) w.elements()];
            ElementDecoder.decode(w.dtype(), bytes.flip(), values);
            tensors.add(Tensor.f32(e.getKey(), values, w.shape()));
        }
        return refsTo(TestSafetensors.write(tmp.resolve("widened.safetensors"), tensors), stored.naming());
    }

    /** The original-layout transformer of {@code depth} blocks rewritten under diffusers' names, as diffusers converts it. */
    private ComponentWeights diffusersCopy(ComponentWeights original, int depth) throws Exception {
        List<Tensor> tensors = new ArrayList<>();
        for (var e : original.weights().entrySet()) {
            String name = e.getKey();
            WeightRef w = e.getValue();
            Matcher block = Pattern.compile("^joint_blocks\\.(\\d+)\\.(x_block|context_block)\\.(.*)$").matcher(name);
            if (name.contains(".qkv.")) {
                String[] parts = block.matches() && block.group(2).equals("context_block")
                        ? new String[] {"add_q_proj", "add_k_proj", "add_v_proj"} : new String[] {"to_q", "to_k", "to_v"};
                if (!block.matches()) {
                    throw new IllegalStateException(name);
                }
                String attn = block.group(3).startsWith("attn2.") ? "attn2." : "attn.";
                long third = w.dim(0) / 3;
                for (int k = 0; k < 3; k++) {
                    tensors.add(bytesOf("transformer_blocks." + block.group(1) + "." + attn + parts[k]
                            + name.substring(name.lastIndexOf('.')), w.rows(k * third, (k + 1) * third)));
                }
                continue;
            }
            String renamed;
            boolean swap = false;
            if (block.matches()) {
                boolean context = block.group(2).equals("context_block");
                String rest = block.group(3);
                String b = "transformer_blocks." + block.group(1) + ".";
                swap = context && rest.startsWith("adaLN_modulation.1") && Integer.parseInt(block.group(1)) == depth - 1;
                renamed = b + rest
                        .replace("adaLN_modulation.1", context ? "norm1_context.linear" : "norm1.linear")
                        .replace("attn.proj", context ? "attn.to_add_out" : "attn.to_out.0")
                        .replace("attn2.proj", "attn2.to_out.0")
                        .replace("ln_q", context ? "norm_added_q" : "norm_q")
                        .replace("ln_k", context ? "norm_added_k" : "norm_k")
                        .replace("mlp.fc1", context ? "ff_context.net.0.proj" : "ff.net.0.proj")
                        .replace("mlp.fc2", context ? "ff_context.net.2" : "ff.net.2");
            } else {
                swap = name.startsWith("final_layer.adaLN_modulation.1");
                renamed = name.replace("x_embedder.", "pos_embed.").replaceFirst("^pos_embed$", "pos_embed.pos_embed")
                        .replace("t_embedder.mlp.0", "time_text_embed.timestep_embedder.linear_1")
                        .replace("t_embedder.mlp.2", "time_text_embed.timestep_embedder.linear_2")
                        .replace("y_embedder.mlp.0", "time_text_embed.text_embedder.linear_1")
                        .replace("y_embedder.mlp.2", "time_text_embed.text_embedder.linear_2")
                        .replace("final_layer.adaLN_modulation.1", "norm_out.linear")
                        .replace("final_layer.linear", "proj_out");
            }
            if (swap) {
                long half = w.dim(0) / 2;
                Tensor shift = bytesOf(renamed, w.rows(0, half));
                Tensor scale = bytesOf(renamed, w.rows(half, 2 * half));
                byte[] both = new byte[shift.data().length * 2];
                System.arraycopy(scale.data(), 0, both, 0, scale.data().length);
                System.arraycopy(shift.data(), 0, both, scale.data().length, shift.data().length);
                tensors.add(new Tensor(renamed, "F32", w.shape(), both));
            } else {
                tensors.add(bytesOf(renamed, w));
            }
        }
        return refsTo(TestSafetensors.write(tmp.resolve("diffusers-names.safetensors"), tensors), WeightNaming.DIFFUSERS);
    }

    private static Tensor bytesOf(String name, WeightRef w) throws Exception {
        if (w.dtype() != SafetensorsDType.F32) {
            throw new IllegalArgumentException(name + " is not F32");
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) w.length());
        try (FileChannel ch = FileChannel.open(w.file())) {
            SafetensorsHeader.readFully(ch, bytes, w.offset());
        }
        return new Tensor(name, "F32", w.shape(), bytes.array());
    }

    private ComponentWeights refsTo(Path file, WeightNaming naming) throws EngineException {
        Map<String, WeightRef> refs = new HashMap<>();
        for (StoredTensor t : SafetensorsHeader.read(file, "test copy").tensors().values()) {
            refs.put(t.name(), new WeightRef(file, t.offset(), t.length(), t.dtype(), t.shape()));
        }
        return new ComponentWeights(CheckpointComponent.TRANSFORMER, naming, tmp, refs);
    }

    private static float maxDiff(FloatTensor a, FloatTensor b) {
        assertArrayEquals(a.shape(), b.shape());
        float max = 0;
        for (int i = 0; i < a.data().length; i++) {
            max = Math.max(max, Math.abs(a.data()[i] - b.data()[i]));
        }
        return max;
    }

    private static float maxAbs(FloatTensor a) {
        float max = 0;
        for (float v : a.data()) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
