package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.lora.LoraModule.Target;
import dev.sd3studio.engine.model.Component;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Groups a LoRA file's tensor names into {@link LoraModule}s. Understands the diffusers/peft keys
 * ({@code transformer.<module>.lora_A.weight}, {@code lora_B}, optional {@code .alpha}; SimpleTuner and
 * diffusers write these) and the SD3 original / kohya keys ({@code lora_unet_joint_blocks_N_x_block_attn_qkv
 * .lora_down.weight}, {@code .lora_up.weight}, {@code .alpha}), whose fused qkv is split into q, k and v.
 * Keys it does not understand are returned with the reason, never dropped.
 */
final class LoraKeys {
    private LoraKeys() {
    }

    /** A tensor name that is not part of any usable LoRA layer, and why. */
    public record Ignored(String key, String reason) {
    }

    public record Parsed(List<LoraModule> modules, List<Ignored> ignored) {
    }

    private static final String[][] DOWN_UP = {
            {".lora_A.weight", ".lora_B.weight"},
            {".lora_A.default.weight", ".lora_B.default.weight"},
            {".lora_down.weight", ".lora_up.weight"},
            {".lora.down.weight", ".lora.up.weight"},
            {".lora_linear_layer.down.weight", ".lora_linear_layer.up.weight"},
    };

    /** Component prefixes of the dotted (diffusers/peft) form, longest first. */
    private static final Map<String, Component> DOTTED_PREFIX = new LinkedHashMap<>();
    /** Component prefixes of the kohya form. */
    private static final Map<String, Component> KOHYA_PREFIX = new LinkedHashMap<>();

    static {
        DOTTED_PREFIX.put("text_encoder_2.", Component.TEXT_ENCODER_2);
        DOTTED_PREFIX.put("text_encoder_3.", Component.TEXT_ENCODER_3);
        DOTTED_PREFIX.put("text_encoder.", Component.TEXT_ENCODER);
        DOTTED_PREFIX.put("transformer.", Component.TRANSFORMER);
        DOTTED_PREFIX.put("base_model.model.", Component.TRANSFORMER);
        DOTTED_PREFIX.put("model.diffusion_model.", Component.TRANSFORMER);
        DOTTED_PREFIX.put("diffusion_model.", Component.TRANSFORMER);
        KOHYA_PREFIX.put("lora_unet_", Component.TRANSFORMER);
        KOHYA_PREFIX.put("lora_transformer_", Component.TRANSFORMER);
        KOHYA_PREFIX.put("lora_te1_", Component.TEXT_ENCODER);
        KOHYA_PREFIX.put("lora_te2_", Component.TEXT_ENCODER_2);
        KOHYA_PREFIX.put("lora_te3_", Component.TEXT_ENCODER_3);
        KOHYA_PREFIX.put("lora_te_", Component.TEXT_ENCODER);
    }

    /** SD3 original (MMDiT checkpoint) module names, underscore form, to diffusers module paths. */
    private record Rule(Pattern pattern, String[] targets, boolean swapIfTwoChunks) {
    }

    private static final List<Rule> SD3_ORIGINAL = List.of(
            rule("joint_blocks_(\\d+)_x_block_attn_qkv", "transformer_blocks.$1.attn.to_q",
                    "transformer_blocks.$1.attn.to_k", "transformer_blocks.$1.attn.to_v"),
            rule("joint_blocks_(\\d+)_x_block_attn_proj", "transformer_blocks.$1.attn.to_out.0"),
            rule("joint_blocks_(\\d+)_x_block_attn2_qkv", "transformer_blocks.$1.attn2.to_q",
                    "transformer_blocks.$1.attn2.to_k", "transformer_blocks.$1.attn2.to_v"),
            rule("joint_blocks_(\\d+)_x_block_attn2_proj", "transformer_blocks.$1.attn2.to_out.0"),
            rule("joint_blocks_(\\d+)_context_block_attn_qkv", "transformer_blocks.$1.attn.add_q_proj",
                    "transformer_blocks.$1.attn.add_k_proj", "transformer_blocks.$1.attn.add_v_proj"),
            rule("joint_blocks_(\\d+)_context_block_attn_proj", "transformer_blocks.$1.attn.to_add_out"),
            rule("joint_blocks_(\\d+)_x_block_mlp_fc1", "transformer_blocks.$1.ff.net.0.proj"),
            rule("joint_blocks_(\\d+)_x_block_mlp_fc2", "transformer_blocks.$1.ff.net.2"),
            rule("joint_blocks_(\\d+)_context_block_mlp_fc1", "transformer_blocks.$1.ff_context.net.0.proj"),
            rule("joint_blocks_(\\d+)_context_block_mlp_fc2", "transformer_blocks.$1.ff_context.net.2"),
            rule("joint_blocks_(\\d+)_x_block_adaLN_modulation_1", "transformer_blocks.$1.norm1.linear"),
            new Rule(Pattern.compile("joint_blocks_(\\d+)_context_block_adaLN_modulation_1"),
                    new String[] {"transformer_blocks.$1.norm1_context.linear"}, true),
            rule("context_embedder", "context_embedder"),
            rule("t_embedder_mlp_0", "time_text_embed.timestep_embedder.linear_1"),
            rule("t_embedder_mlp_2", "time_text_embed.timestep_embedder.linear_2"),
            rule("y_embedder_mlp_0", "time_text_embed.text_embedder.linear_1"),
            rule("y_embedder_mlp_2", "time_text_embed.text_embedder.linear_2"),
            rule("final_layer_linear", "proj_out"),
            new Rule(Pattern.compile("final_layer_adaLN_modulation_1"), new String[] {"norm_out.linear"}, true));

    private static Rule rule(String regex, String... targets) {
        return new Rule(Pattern.compile(regex), targets, false);
    }

    public static Parsed parse(Collection<String> tensorNames) {
        Map<String, String[]> pairs = new LinkedHashMap<>();     // module key -> {down, up}
        Map<String, String> alphas = new LinkedHashMap<>();
        List<Ignored> ignored = new ArrayList<>();
        for (String name : new TreeSet<>(tensorNames)) {
            String[] hit = null;
            for (String[] du : DOWN_UP) {
                if (name.endsWith(du[0])) {
                    hit = new String[] {name.substring(0, name.length() - du[0].length()), "down"};
                } else if (name.endsWith(du[1])) {
                    hit = new String[] {name.substring(0, name.length() - du[1].length()), "up"};
                }
                if (hit != null) {
                    String[] p = pairs.computeIfAbsent(hit[0], k -> new String[2]);
                    p[hit[1].equals("down") ? 0 : 1] = name;
                    break;
                }
            }
            if (hit != null) {
                continue;
            }
            if (name.endsWith(".alpha")) {
                alphas.put(name.substring(0, name.length() - ".alpha".length()), name);
            } else {
                ignored.add(new Ignored(name, unsupportedReason(name)));
            }
        }
        List<LoraModule> modules = new ArrayList<>();
        for (var e : pairs.entrySet()) {
            String key = e.getKey();
            String[] du = e.getValue();
            if (du[0] == null || du[1] == null) {
                ignored.add(new Ignored(du[0] != null ? du[0] : du[1], "its "
                        + (du[0] == null ? "down (lora_A)" : "up (lora_B)") + " half is missing"));
                continue;
            }
            String alpha = alphas.remove(key);
            LoraModule m = module(key, du[0], du[1], alpha);
            if (m == null) {
                ignored.add(new Ignored(du[0], "not a layer of the SD3 transformer or its text encoders"));
                ignored.add(new Ignored(du[1], "not a layer of the SD3 transformer or its text encoders"));
            } else {
                modules.add(m);
            }
        }
        alphas.values().forEach(a -> ignored.add(new Ignored(a, "an alpha without its LoRA layer")));
        return new Parsed(List.copyOf(modules), List.copyOf(ignored));
    }

    private static String unsupportedReason(String name) {
        if (name.contains("dora_scale") || name.contains("lora_magnitude_vector")) {
            return "DoRA magnitudes are not supported";
        }
        if (name.contains("hada_") || name.contains("lokr_")) {
            return "LoHa/LoKr layers are not supported, only plain LoRA";
        }
        if (name.endsWith(".diff") || name.endsWith(".diff_b") || name.endsWith(".bias")) {
            return "full weight or bias differences are not supported, only low-rank layers";
        }
        return "not a LoRA down/up/alpha tensor";
    }

    /** The module for one down/up pair, or null when no component prefix fits. */
    static LoraModule module(String key, String down, String up, String alpha) {
        for (var p : KOHYA_PREFIX.entrySet()) {
            if (key.startsWith(p.getKey())) {
                String flat = key.substring(p.getKey().length());
                return new LoraModule(key, p.getValue(), down, up, alpha, targets(p.getValue(), flat, true));
            }
        }
        for (var p : DOTTED_PREFIX.entrySet()) {
            if (key.startsWith(p.getKey())) {
                String path = key.substring(p.getKey().length());
                return new LoraModule(key, p.getValue(), down, up, alpha, targets(p.getValue(), path, false));
            }
        }
        if (key.startsWith("transformer_blocks.") || key.startsWith("joint_blocks.")) {
            return new LoraModule(key, Component.TRANSFORMER, down, up, alpha, targets(Component.TRANSFORMER, key, false));
        }
        return null;
    }

    private static List<Target> targets(Component component, String name, boolean flat) {
        if (component == Component.TRANSFORMER) {
            String underscored = name.replace('.', '_');
            for (Rule r : SD3_ORIGINAL) {
                Matcher m = r.pattern.matcher(underscored);
                if (m.matches()) {
                    List<Target> out = new ArrayList<>();
                    for (int i = 0; i < r.targets.length; i++) {
                        out.add(new Target(m.replaceFirst(r.targets[i]), null, i, r.targets.length, r.swapIfTwoChunks));
                    }
                    return out;
                }
            }
        }
        return List.of(flat ? Target.flat(name) : Target.of(name));
    }
}
