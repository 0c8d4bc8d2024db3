package dev.sd3studio.engine.lora;

import dev.sd3studio.engine.lora.LoraModule.Target;
import dev.sd3studio.engine.model.Component;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoraKeysTest {
    private static Map<String, LoraModule> byKey(LoraKeys.Parsed p) {
        return p.modules().stream().collect(Collectors.toMap(LoraModule::key, Function.identity()));
    }

    @Test
    void diffusersPeftKeysPerComponent() {
        LoraKeys.Parsed p = LoraKeys.parse(List.of(
                "transformer.transformer_blocks.0.attn.to_q.lora_A.weight",
                "transformer.transformer_blocks.0.attn.to_q.lora_B.weight",
                "transformer.transformer_blocks.0.attn.to_out.0.lora_A.weight",
                "transformer.transformer_blocks.0.attn.to_out.0.lora_B.weight",
                "transformer.transformer_blocks.0.attn.to_out.0.alpha",
                "text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight",
                "text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_B.weight",
                "text_encoder_2.text_model.encoder.layers.1.mlp.fc1.lora_A.weight",
                "text_encoder_2.text_model.encoder.layers.1.mlp.fc1.lora_B.weight"));
        Map<String, LoraModule> m = byKey(p);
        assertEquals(4, m.size());
        assertTrue(p.ignored().isEmpty(), p.ignored().toString());
        LoraModule q = m.get("transformer.transformer_blocks.0.attn.to_q");
        assertEquals(Component.TRANSFORMER, q.component());
        assertEquals(List.of(Target.of("transformer_blocks.0.attn.to_q")), q.targets());
        assertNull(q.alpha());
        assertEquals("transformer.transformer_blocks.0.attn.to_out.0.alpha", m.get("transformer.transformer_blocks.0.attn.to_out.0").alpha());
        assertEquals(Component.TEXT_ENCODER, m.get("text_encoder.text_model.encoder.layers.0.self_attn.q_proj").component());
        LoraModule fc1 = m.get("text_encoder_2.text_model.encoder.layers.1.mlp.fc1");
        assertEquals(Component.TEXT_ENCODER_2, fc1.component());
        assertEquals("text_model.encoder.layers.1.mlp.fc1", fc1.targets().getFirst().modulePath());
    }

    @Test
    void kohyaSd3FusedQkvSplitsIntoThreeTargets() {
        LoraKeys.Parsed p = LoraKeys.parse(List.of(
                "lora_unet_joint_blocks_3_x_block_attn_qkv.lora_down.weight",
                "lora_unet_joint_blocks_3_x_block_attn_qkv.lora_up.weight",
                "lora_unet_joint_blocks_3_x_block_attn_qkv.alpha",
                "lora_unet_joint_blocks_3_context_block_attn_qkv.lora_down.weight",
                "lora_unet_joint_blocks_3_context_block_attn_qkv.lora_up.weight",
                "lora_unet_joint_blocks_3_context_block_attn_proj.lora_down.weight",
                "lora_unet_joint_blocks_3_context_block_attn_proj.lora_up.weight",
                "lora_unet_joint_blocks_23_context_block_adaLN_modulation_1.lora_down.weight",
                "lora_unet_joint_blocks_23_context_block_adaLN_modulation_1.lora_up.weight",
                "lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight",
                "lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight"));
        Map<String, LoraModule> m = byKey(p);
        LoraModule x = m.get("lora_unet_joint_blocks_3_x_block_attn_qkv");
        assertEquals("lora_unet_joint_blocks_3_x_block_attn_qkv.alpha", x.alpha());
        assertEquals(List.of(
                new Target("transformer_blocks.3.attn.to_q", null, 0, 3, false),
                new Target("transformer_blocks.3.attn.to_k", null, 1, 3, false),
                new Target("transformer_blocks.3.attn.to_v", null, 2, 3, false)), x.targets());
        assertEquals(List.of("transformer_blocks.3.attn.add_q_proj", "transformer_blocks.3.attn.add_k_proj",
                        "transformer_blocks.3.attn.add_v_proj"),
                m.get("lora_unet_joint_blocks_3_context_block_attn_qkv").targets().stream().map(Target::modulePath).toList());
        assertEquals("transformer_blocks.3.attn.to_add_out",
                m.get("lora_unet_joint_blocks_3_context_block_attn_proj").targets().getFirst().modulePath());
        Target ada = m.get("lora_unet_joint_blocks_23_context_block_adaLN_modulation_1").targets().getFirst();
        assertEquals("transformer_blocks.23.norm1_context.linear", ada.modulePath());
        assertTrue(ada.swapIfTwoChunks());
        LoraModule te = m.get("lora_te1_text_model_encoder_layers_0_self_attn_q_proj");
        assertEquals(Component.TEXT_ENCODER, te.component());
        assertEquals(Target.flat("text_model_encoder_layers_0_self_attn_q_proj"), te.targets().getFirst());
    }

    @Test
    void everyUnusableTensorIsReportedWithItsReason() {
        LoraKeys.Parsed p = LoraKeys.parse(List.of(
                "transformer.transformer_blocks.0.attn.to_q.lora_A.weight",           // B missing
                "transformer.transformer_blocks.0.attn.to_k.lora_magnitude_vector",    // DoRA
                "lora_unet_joint_blocks_0_x_block_attn_proj.alpha",                   // alpha alone
                "unet.down_blocks.0.attentions.0.proj_in.lora_A.weight",              // an SD1.5 LoRA
                "unet.down_blocks.0.attentions.0.proj_in.lora_B.weight"));
        assertTrue(p.modules().isEmpty());
        Map<String, String> why = p.ignored().stream().collect(Collectors.toMap(LoraKeys.Ignored::key, LoraKeys.Ignored::reason));
        assertEquals(5, why.size(), why.toString());
        assertTrue(why.get("transformer.transformer_blocks.0.attn.to_q.lora_A.weight").contains("missing"));
        assertTrue(why.get("transformer.transformer_blocks.0.attn.to_k.lora_magnitude_vector").contains("DoRA"));
        assertTrue(why.get("lora_unet_joint_blocks_0_x_block_attn_proj.alpha").contains("alpha"));
        assertTrue(why.get("unet.down_blocks.0.attentions.0.proj_in.lora_B.weight").contains("not a layer"));
    }
}
