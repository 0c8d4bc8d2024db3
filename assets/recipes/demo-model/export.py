"""Export the trained torch modules to the Optimum ONNX layout the engine loads."""
import json
import os
import shutil

import torch

import models
import toks
import train


class ClipWrap(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids):
        pooled, last, hs = self.m(input_ids)
        return (pooled, last, *hs)


class VaeEncWrap(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, sample):
        return self.m(sample)


def _export(module, args, path, inputs, outputs, axes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                      opset_version=14, do_constant_folding=True)


def dump(obj, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def clip_config(c, vocab, eos):
    return {"architectures": ["CLIPTextModelWithProjection"], "attention_dropout": 0.0, "bos_token_id": vocab - 2,
            "dropout": 0.0, "eos_token_id": eos, "hidden_act": c["act"], "hidden_size": c["d"],
            "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": c["ffn"],
            "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
            "num_attention_heads": c["heads"], "num_hidden_layers": c["layers"], "output_hidden_states": True,
            "pad_token_id": eos, "projection_dim": c["proj"], "torch_dtype": "float32", "vocab_size": vocab}


def export_all(work, out, shift, log):
    models.FAST = False
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    m, tk = train.load_all(work)
    cl, cg, t5, J = m["enc"]
    C = train.CFG
    V = len(tk[0].vocab)
    toks.write_all(out)

    dump({"_class_name": "StableDiffusion3Pipeline", "_diffusers_version": "0.38.0",
          "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
          "text_encoder": ["transformers", "CLIPTextModelWithProjection"],
          "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
          "text_encoder_3": ["transformers", "T5EncoderModel"],
          "tokenizer": ["transformers", "CLIPTokenizer"], "tokenizer_2": ["transformers", "CLIPTokenizer"],
          "tokenizer_3": ["transformers", "T5TokenizerFast"],
          "transformer": ["diffusers", "SD3Transformer2DModel"], "vae": ["diffusers", "AutoencoderKL"]},
         os.path.join(out, "model_index.json"))
    # what the studio shows about this model: sizes, example prompts, the grammar (hand-written)
    shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sd3studio.json"), out)
    dump({"_class_name": "FlowMatchEulerDiscreteScheduler", "_diffusers_version": "0.38.0",
          "base_image_seq_len": 256, "base_shift": 0.5, "invert_sigmas": False, "max_image_seq_len": 4096,
          "max_shift": 1.15, "num_train_timesteps": 1000, "shift": float(shift), "shift_terminal": None,
          "stochastic_sampling": False, "time_shift_type": "exponential", "use_beta_sigmas": False,
          "use_dynamic_shifting": False, "use_exponential_sigmas": False, "use_karras_sigmas": False},
         os.path.join(out, "scheduler", "scheduler_config.json"))

    ids = torch.tensor([tk[0]("a large red circle in the center on a blue background"), tk[0]("")])
    for name, enc, c, tok in (("text_encoder", cl, C["clip_l"], tk[0]), ("text_encoder_2", cg, C["clip_g"], tk[1])):
        n = c["layers"]
        outs = ["text_embeds", "last_hidden_state"] + [f"hidden_states.{i}" for i in range(n + 1)]
        axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
                "text_embeds": {0: "batch_size", 1: "sequence_length"}}
        for o in outs[1:]:
            axes[o] = {0: "batch_size", 1: "sequence_length"}
        _export(ClipWrap(enc), (ids,), os.path.join(out, name, "model.onnx"), ["input_ids"], outs, axes)
        dump(clip_config(c, V, tok.eos), os.path.join(out, name, "config.json"))

    c5 = C["t5"]
    tid = torch.tensor([tk[2]("a large red circle in the center on a blue background", 256)] * 2)
    _export(t5, (tid,), os.path.join(out, "text_encoder_3", "model.onnx"), ["input_ids"], ["last_hidden_state"],
            {"input_ids": {0: "batch_size", 1: "sequence_length"},
             "last_hidden_state": {0: "batch_size", 1: "sequence_length"}})
    dump({"architectures": ["T5EncoderModel"], "classifier_dropout": 0.0, "d_ff": c5["d_ff"], "d_kv": c5["d_kv"],
          "d_model": c5["d"], "decoder_start_token_id": 0, "dense_act_fn": "gelu_new", "dropout_rate": 0.0,
          "eos_token_id": 1, "feed_forward_proj": "gated-gelu", "initializer_factor": 1.0,
          "is_encoder_decoder": True, "is_gated_act": True, "layer_norm_epsilon": 1e-06, "model_type": "t5",
          "num_decoder_layers": c5["layers"], "num_heads": c5["heads"], "num_layers": c5["layers"],
          "pad_token_id": 0, "relative_attention_max_distance": 128, "relative_attention_num_buckets": 32,
          "tie_word_embeddings": False, "torch_dtype": "float32", "use_cache": True,
          "vocab_size": len(toks.build_t5())}, os.path.join(out, "text_encoder_3", "config.json"))

    ct = C["transformer"]
    tr = m["transformer"]
    args = (torch.randn(2, 16, 8, 8), torch.randn(2, 77 + 256, J), torch.randn(2, train.POOLED),
            torch.tensor([1000.0, 500.0]))
    _export(tr, args, os.path.join(out, "transformer", "model.onnx"),
            ["hidden_states", "encoder_hidden_states", "pooled_projections", "timestep"], ["out_hidden_states"],
            {"hidden_states": {0: "batch_size", 2: "height", 3: "width"},
             "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
             "pooled_projections": {0: "batch_size"}, "timestep": {0: "step"},
             "out_hidden_states": {0: "batch_size", 2: "height", 3: "width"}})
    dump({"_class_name": "SD3Transformer2DModel", "_diffusers_version": "0.38.0",
          "attention_head_dim": ct["d"] // ct["heads"], "caption_projection_dim": ct["d"],
          "dual_attention_layers": [], "in_channels": 16, "joint_attention_dim": J,
          "num_attention_heads": ct["heads"], "num_layers": ct["layers"], "out_channels": 16,
          "patch_size": ct["patch"], "pooled_projection_dim": train.POOLED, "pos_embed_max_size": ct["pos_max"],
          "qk_norm": None, "sample_size": 8}, os.path.join(out, "transformer", "config.json"))

    vae_cfg = {"_class_name": "AutoencoderKL", "_diffusers_version": "0.38.0", "act_fn": "silu",
               "block_out_channels": [24, 48, 64, 64], "down_block_types": ["DownEncoderBlock2D"] * 4,
               "force_upcast": False, "in_channels": 3, "latent_channels": 16, "latents_mean": None,
               "latents_std": None, "layers_per_block": 1, "mid_block_add_attention": False,
               "norm_num_groups": 8, "out_channels": 3, "sample_size": 64,
               "scaling_factor": float(m["scaling"]), "shift_factor": float(m["shift"]),
               "up_block_types": ["UpDecoderBlock2D"] * 4, "use_post_quant_conv": False, "use_quant_conv": False}
    img = torch.rand(2, 3, 64, 64) * 2 - 1
    _export(VaeEncWrap(m["vae_enc"]), (img,), os.path.join(out, "vae_encoder", "model.onnx"), ["sample"],
            ["latent_parameters"],
            {"sample": {0: "batch_size", 2: "sample_height", 3: "sample_width"},
             "latent_parameters": {0: "batch_size", 2: "sample_height / 8", 3: "sample_width / 8"}})
    _export(m["vae_dec"], (torch.randn(2, 16, 8, 8),), os.path.join(out, "vae_decoder", "model.onnx"),
            ["latent_sample"], ["sample"],
            {"latent_sample": {0: "batch_size", 2: "latent_height", 3: "latent_width"},
             "sample": {0: "batch_size", 2: "latent_height * 8", 3: "latent_width * 8"}})
    for sub in ("vae_encoder", "vae_decoder"):
        dump(vae_cfg, os.path.join(out, sub, "config.json"))

    tenc, tdec = train.load_taesd(work)
    tcfg = {"_class_name": "AutoencoderTiny", "_diffusers_version": "0.38.0", "act_fn": "relu",
            "block_out_channels": [24, 24, 24, 24], "decoder_block_out_channels": [24, 24, 24, 24],
            "encoder_block_out_channels": [24, 24, 24, 24], "force_upcast": False, "in_channels": 3,
            "latent_channels": 16, "latent_magnitude": 3, "latent_shift": 0.5, "num_decoder_blocks": [1, 1, 1, 1],
            "num_encoder_blocks": [1, 1, 1, 1], "out_channels": 3, "scaling_factor": 1.0, "shift_factor": 0.0,
            "upsample_fn": "nearest", "upsampling_scaling_factor": 2}
    td = os.path.join(out, "taesd3")
    _export(tdec, (torch.randn(2, 16, 8, 8),), os.path.join(td, "vae_decoder", "model.onnx"),
            ["latent_sample"], ["sample"],
            {"latent_sample": {0: "batch_size", 2: "latent_height", 3: "latent_width"},
             "sample": {0: "batch_size", 2: "latent_height * 8", 3: "latent_width * 8"}})
    _export(tenc, (img,), os.path.join(td, "vae_encoder", "model.onnx"), ["sample"], ["latent_sample"],
            {"sample": {0: "batch_size", 2: "sample_height", 3: "sample_width"},
             "latent_sample": {0: "batch_size", 2: "sample_height / 8", 3: "sample_width / 8"}})
    for p in ("config.json", "vae_decoder/config.json", "vae_encoder/config.json"):
        dump(tcfg, os.path.join(td, p))
    models.FAST = True
    log("exported to", out)
