"""Write a random-weight SD3 / SD3.5 model at real widths in the Hugging Face Optimum ONNX layout.

    /usr/bin/python3 assets/recipes/full-size/build.py --preset mid --out /work/cache/full-size/mid
    /usr/bin/python3 assets/recipes/full-size/build.py --preset sd35-medium --dtype fp16,fp32 \
        --out /work/cache/full-size/sd35-medium

Presets: `mid` (SD3-medium widths, 3 joint blocks, 2-layer encoders, real VAE), `sd35-medium` and
`sd3-medium` (architecture-exact). Deep stacks are exported with a few layers at full width and the
remaining layers are replicated in the ONNX graph with fresh seeded random initializers (graph_edit.py),
so no component ever has to exist whole in memory. With several dtypes the out folder gets one
sub-folder per dtype (`fp16/`, `fp32/`) holding the same weights. See README.md here.
"""
import argparse
import json
import os
import shutil
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import graph_edit  # noqa: E402
import nets  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURE = os.path.join(REPO, "fixtures", "models", "tiny-sd3")  # configs and real tokenizer files

CLIP_L = dict(d=768, layers=12, heads=12, ffn=3072, proj=768, act="quick_gelu")
CLIP_G = dict(d=1280, layers=32, heads=20, ffn=5120, proj=1280, act="gelu")
T5 = dict(d=4096, layers=24, heads=64, d_kv=64, d_ff=10240)
VAE = dict(ch=[128, 256, 512, 512], layers=2, groups=32)
MMDIT_SD3 = {"attention_head_dim": 64, "caption_projection_dim": 1536, "dual_attention_layers": [],
             "in_channels": 16, "joint_attention_dim": 4096, "num_attention_heads": 24, "num_layers": 24,
             "out_channels": 16, "patch_size": 2, "pooled_projection_dim": 2048, "pos_embed_max_size": 192,
             "qk_norm": None, "sample_size": 128}
MMDIT_SD35 = dict(MMDIT_SD3, pos_embed_max_size=384, qk_norm="rms_norm", dual_attention_layers=list(range(13)))

# Per preset and component: (exported layers, [(template layer scope, extra copies)], final config).
# The full presets replicate a template layer whose predecessor has the same structure (see
# graph_edit.replicate); their encoders and the SD3 transformer start from the mid preset's exports.
ENCODERS_FULL = {"clip_l": (2, [("/layers.1/", 10)], 12), "clip_g": (2, [("/layers.1/", 30)], 32),
                 "t5": (2, [("/block.1/", 22)], 24)}
PRESETS = {
    "mid": {"clip_l": (2, [], 2), "clip_g": (2, [], 2), "t5": (2, [], 2),
            "transformer": (dict(MMDIT_SD3, num_layers=3), [], None)},
    "sd3-medium": dict(ENCODERS_FULL, transformer=(dict(MMDIT_SD3, num_layers=3),
                                                   [("/transformer_blocks.1/", 21)], MMDIT_SD3)),
    # SD3.5 medium: layers 0-12 dual attention, 13-22 plain, 23 context-pre-only
    "sd35-medium": dict(ENCODERS_FULL, transformer=(dict(MMDIT_SD35, num_layers=5, dual_attention_layers=[0, 1]),
                                                    [("/transformer_blocks.1/", 11), ("/transformer_blocks.3/", 8)],
                                                    MMDIT_SD35)),
}


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def dump(obj, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def rss_gb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    return -1


def randomize(module, seed):
    """Seeded default init; constant tensors (norm weights of ones, zero biases) get a little noise so
    no two parameters are equal (torch would otherwise merge equal initializers across layers)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            if p.numel() > 1 and float(p.std()) == 0.0:
                p.add_(torch.randn(p.shape, generator=g) * 0.02)
    module.eval()
    return module


def export(module, args, path, inputs, outputs, axes, opset):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=opset, do_constant_folding=True)


def clip_config(c, layers):
    return {"architectures": ["CLIPTextModelWithProjection"], "attention_dropout": 0.0, "bos_token_id": 0,
            "dropout": 0.0, "eos_token_id": 2, "hidden_act": c["act"], "hidden_size": c["d"],
            "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": c["ffn"],
            "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
            "num_attention_heads": c["heads"], "num_hidden_layers": layers, "output_hidden_states": True,
            "pad_token_id": 1, "projection_dim": c["proj"], "torch_dtype": "float32", "vocab_size": 49408}


def t5_config(c, layers):
    return {"architectures": ["T5EncoderModel"], "classifier_dropout": 0.0, "d_ff": c["d_ff"], "d_kv": c["d_kv"],
            "d_model": c["d"], "decoder_start_token_id": 0, "dense_act_fn": "gelu_new", "dropout_rate": 0.0,
            "eos_token_id": 1, "feed_forward_proj": "gated-gelu", "initializer_factor": 1.0,
            "is_encoder_decoder": True, "is_gated_act": True, "layer_norm_epsilon": 1e-06, "model_type": "t5",
            "num_decoder_layers": layers, "num_heads": c["heads"], "num_layers": layers, "pad_token_id": 0,
            "relative_attention_max_distance": 128, "relative_attention_num_buckets": 32,
            "tie_word_embeddings": False, "torch_dtype": "float32", "use_cache": True, "vocab_size": 32128}


def vae_config():
    return {"_class_name": "AutoencoderKL", "_diffusers_version": "0.38.0", "act_fn": "silu",
            "block_out_channels": VAE["ch"], "down_block_types": ["DownEncoderBlock2D"] * 4, "force_upcast": True,
            "in_channels": 3, "latent_channels": 16, "latents_mean": None, "latents_std": None,
            "layers_per_block": VAE["layers"], "mid_block_add_attention": True, "norm_num_groups": VAE["groups"],
            "out_channels": 3, "sample_size": 1024, "scaling_factor": 1.5305, "shift_factor": 0.0609,
            "up_block_types": ["UpDecoderBlock2D"] * 4, "use_post_quant_conv": False, "use_quant_conv": False}


def write_common(out):
    shutil.copyfile(os.path.join(FIXTURE, "model_index.json"), os.path.join(out, "model_index.json"))
    os.makedirs(os.path.join(out, "scheduler"), exist_ok=True)
    shutil.copyfile(os.path.join(FIXTURE, "scheduler", "scheduler_config.json"),
                    os.path.join(out, "scheduler", "scheduler_config.json"))
    for t in ("tokenizer", "tokenizer_2", "tokenizer_3"):  # real tokenizer files, copied at run time only
        dst = os.path.join(out, t)
        if os.path.exists(dst):
            shutil.rmtree(dst)
        shutil.copytree(os.path.join(FIXTURE, t), dst)
        os.system(f"chmod -R u+w '{dst}'")


def components(preset):
    """(name, build(), example args, inputs, outputs, axes, opset, replicas, config, fp32 scopes, output stem)"""
    p = PRESETS[preset]
    ids77 = torch.randint(0, 49408, (1, 77))
    ids77[:, -1] = 49407
    for name, c, key in (("text_encoder", CLIP_L, "clip_l"), ("text_encoder_2", CLIP_G, "clip_g")):
        n_exp, reps, n_final = p[key]
        outs = ["text_embeds", "last_hidden_state"] + [f"hidden_states.{i}" for i in range(n_exp + 1)]
        axes = {o: {0: "batch_size", 1: "sequence_length"} for o in ["input_ids"] + outs}
        yield (name, lambda c=c, n=n_exp: nets.ClipText(49408, c["d"], n, c["heads"], c["ffn"], c["proj"], c["act"]),
               (ids77,), ["input_ids"], outs, axes, 14, reps, clip_config(c, n_final), (), "hidden_states")
    n_exp, reps, n_final = p["t5"]
    yield ("text_encoder_3", lambda: nets.T5Encoder(32128, T5["d"], n_exp, T5["heads"], T5["d_kv"], T5["d_ff"]),
           (torch.randint(0, 32128, (1, 16)),), ["input_ids"], ["last_hidden_state"],
           {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "last_hidden_state": {0: "batch_size", 1: "sequence_length"}}, 12, reps, t5_config(T5, n_final),
           ("/bucket/",), None)
    exp_cfg, reps, final_cfg = p["transformer"]
    cfg = dict(final_cfg or exp_cfg)
    cfg = {"_class_name": "SD3Transformer2DModel", "_diffusers_version": "0.38.0", **cfg}
    yield ("transformer", lambda: nets.MMDiT(exp_cfg),
           (torch.randn(1, 16, 16, 16), torch.randn(1, 77 + 16, 4096), torch.randn(1, 2048), torch.tensor([500.0])),
           ["hidden_states", "encoder_hidden_states", "pooled_projections", "timestep"], ["out_hidden_states"],
           {"hidden_states": {0: "batch_size", 2: "height", 3: "width"},
            "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
            "pooled_projections": {0: "batch_size"}, "timestep": {0: "step"},
            "out_hidden_states": {0: "batch_size", 2: "height", 3: "width"}}, 14, reps, cfg,
           ("/time_text_embed/time_proj/",), None)
    yield ("vae_encoder", lambda: nets.VaeEncoder(VAE["ch"], VAE["layers"], 16, VAE["groups"]),
           (torch.rand(1, 3, 64, 64) * 2 - 1,), ["sample"], ["latent_parameters"],
           {"sample": {0: "batch_size", 2: "sample_height", 3: "sample_width"},
            "latent_parameters": {0: "batch_size", 2: "sample_height / 8", 3: "sample_width / 8"}}, 14, [],
           vae_config(), (), None)
    yield ("vae_decoder", lambda: nets.VaeDecoder(VAE["ch"], VAE["layers"], 16, VAE["groups"]),
           (torch.randn(1, 16, 8, 8),), ["latent_sample"], ["sample"],
           {"latent_sample": {0: "batch_size", 2: "latent_height", 3: "latent_width"},
            "sample": {0: "batch_size", 2: "latent_height * 8", 3: "latent_width * 8"}}, 14, [],
           vae_config(), (), None)


def template_key(preset, name, seed):
    """Exports are shared between presets that export the same module with the same seed."""
    layers = PRESETS[preset]
    if name == "transformer":
        cfg = layers["transformer"][0]
        kind = "sd35" if cfg["dual_attention_layers"] else "sd3"
        return f"{kind}-{cfg['num_layers']}L-s{seed}"
    key = {"text_encoder": "clip_l", "text_encoder_2": "clip_g", "text_encoder_3": "t5"}.get(name)
    return (f"{layers[key][0]}L-s{seed}" if key else f"s{seed}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), required=True)
    ap.add_argument("--dtype", default="fp32", help="fp32, fp16 or fp16,fp32")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--only", help="comma-separated components (default: all)")
    ap.add_argument("--work", help="folder for the exported templates, reused by later runs "
                                   "(default: templates/ beside OUT)")
    ap.add_argument("--clean", action="store_true", help="delete the templates afterwards")
    a = ap.parse_args()
    torch.set_num_threads(2)
    dtypes = a.dtype.split(",")
    outs = {d: (os.path.join(a.out, d) if len(dtypes) > 1 else a.out) for d in dtypes}
    work = a.work or os.path.join(os.path.dirname(os.path.abspath(a.out)), "templates")
    only = set(a.only.split(",")) if a.only else None
    for o in outs.values():
        os.makedirs(o, exist_ok=True)
        write_common(o)
    for k, (name, build, args, ins, outn, axes, opset, reps, cfg, keep, stem) in enumerate(components(a.preset)):
        if only and name not in only:
            continue
        t0 = time.time()
        src = os.path.join(work, f"{name}-{template_key(a.preset, name, a.seed)}", "model.onnx")
        if os.path.exists(src + ".done"):
            log(f"{name}: template {src} exists, reused")
        else:
            torch.manual_seed(a.seed + k)
            module = randomize(build(), a.seed + 100 + k)
            nparam = sum(p.numel() for p in module.parameters())
            if os.path.exists(os.path.dirname(src)):
                shutil.rmtree(os.path.dirname(src))
            export(module, args, src, ins, outn, axes, opset)
            del module
            open(src + ".done", "w").close()
            log(f"{name}: exported {nparam / 1e6:.1f} M parameters in {time.time() - t0:.0f} s "
                f"(peak RSS {rss_gb():.1f} GiB)")
        for d, o in outs.items():
            t1 = time.time()
            sub = os.path.join(o, name)
            if os.path.exists(sub):
                shutil.rmtree(sub)
            graph_edit.finalize(src, sub, a.seed + 1000 * (k + 1), reps, fp16=(d == "fp16"), keep_fp32_scopes=keep,
                                stem_outputs=stem if reps else None, log=log)
            c = dict(cfg, torch_dtype="float16" if d == "fp16" else "float32") if "torch_dtype" in cfg else cfg
            dump(c, os.path.join(sub, "config.json"))
            log(f"{name} {d}: {time.time() - t1:.0f} s (peak RSS {rss_gb():.1f} GiB)")
    if a.clean:
        shutil.rmtree(work, ignore_errors=True)
    log("done:", ", ".join(outs.values()))


if __name__ == "__main__":
    main()
