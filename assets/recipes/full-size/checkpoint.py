"""Write a random-weight SD3.5 Medium checkpoint in Stability AI's single-file layout.

    /usr/bin/python3 assets/recipes/full-size/checkpoint.py --out /work/cache/full-size/sd35-medium-ckpt
    /usr/bin/python3 assets/recipes/full-size/checkpoint.py --self-test

Writes, into --out:
    sd3.5_medium.safetensors                     MMDiT (model.diffusion_model.) + VAE (first_stage_model.), F16
    text_encoders/clip_l.safetensors             CLIP-L text model with projection, F16
    text_encoders/clip_g.safetensors             CLIP-G text model with projection, F16
    text_encoders/t5xxl_fp16.safetensors         T5-XXL encoder, F16
    text_encoders/t5xxl_fp8_e4m3fn.safetensors   the same T5 values in F8_E4M3 (OCP E4M3FN)
No config/ folder: the engine recognises SD3.5 Medium by its keys and shapes.

The key names and shapes come from rules parameterised by the model's dimensions (mmdit_keys, vae_keys,
clip_keys, t5_keys). --self-test applies the same rules to the tiny fixtures' dimensions (read from their
config/ folders) and requires the exact key sets, shapes and dtypes of fixtures/checkpoints/tiny-sd35-*;
it also writes the tiny checkpoint with this writer, reads it back and checks the float8 encoder.

Every tensor has its own seeded generator (seed, name), so values do not depend on write order, and the
fp8 T5 holds the very values of the fp16 one (each rounded once from float32). Tensors are generated and
written in chunks of at most CHUNK elements, so memory stays small whatever the model size.
"""
import argparse
import json
import os
import resource
import struct
import sys
import tempfile
import time
import zlib

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(REPO, "fixtures", "checkpoints")
CHUNK = 1 << 22  # elements generated at once (16 MiB of float32); the values do not depend on it
STD = 0.02       # weights and biases: N(0, STD); norm scales: 1 + N(0, STD)

# Real dimensions (SD3.5 Medium and its encoders)
MMDIT_SD35_MEDIUM = dict(depth=24, heads=24, head_dim=64, joint_dim=4096, pooled_dim=2048, patch=2, in_ch=16,
                         out_ch=16, pos_max=384, qk_norm=True, dual=list(range(13)), mlp_ratio=4)
# SD3.5 Large: 38 blocks of one 64-wide head each (hidden 2432), no dual attention, positions up to 192
MMDIT_SD35_LARGE = dict(depth=38, heads=38, head_dim=64, joint_dim=4096, pooled_dim=2048, patch=2, in_ch=16,
                        out_ch=16, pos_max=192, qk_norm=True, dual=[], mlp_ratio=4)
MODELS = {"medium": (MMDIT_SD35_MEDIUM, "sd3.5_medium.safetensors", "SD3.5 Medium"),
          "large": (MMDIT_SD35_LARGE, "sd3.5_large.safetensors", "SD3.5 Large")}
VAE_SD3 = dict(ch=[128, 256, 512, 512], layers=2, latent=16)
CLIP_L = dict(layers=12, width=768, mlp=3072, vocab=49408, positions=77, proj=768)
CLIP_G = dict(layers=32, width=1280, mlp=5120, vocab=49408, positions=77, proj=1280)
T5_XXL = dict(layers=24, d_model=4096, d_kv=64, heads=64, d_ff=10240, vocab=32128, buckets=32)


# ---- key rules ----------------------------------------------------------------------------------------------

def mmdit_keys(depth, heads, head_dim, joint_dim, pooled_dim, patch, in_ch, out_ch, pos_max, qk_norm, dual,
               mlp_ratio):
    """Stability AI's MMDiT names (sd3_impls / ComfyUI), without the model.diffusion_model. prefix."""
    h = heads * head_dim
    keys = [("x_embedder.proj.weight", [h, in_ch, patch, patch]), ("x_embedder.proj.bias", [h]),
            ("pos_embed", [1, pos_max * pos_max, h]),
            ("t_embedder.mlp.0.weight", [h, 256]), ("t_embedder.mlp.0.bias", [h]),
            ("t_embedder.mlp.2.weight", [h, h]), ("t_embedder.mlp.2.bias", [h]),
            ("y_embedder.mlp.0.weight", [h, pooled_dim]), ("y_embedder.mlp.0.bias", [h]),
            ("y_embedder.mlp.2.weight", [h, h]), ("y_embedder.mlp.2.bias", [h]),
            ("context_embedder.weight", [h, joint_dim]), ("context_embedder.bias", [h]),
            ("final_layer.linear.weight", [patch * patch * out_ch, h]),
            ("final_layer.linear.bias", [patch * patch * out_ch]),
            ("final_layer.adaLN_modulation.1.weight", [2 * h, h]), ("final_layer.adaLN_modulation.1.bias", [2 * h])]

    def linear(name, n_out, n_in):
        return [(name + ".weight", [n_out, n_in]), (name + ".bias", [n_out])]

    def attention(name, with_proj):
        k = linear(name + ".qkv", 3 * h, h)
        if with_proj:
            k += linear(name + ".proj", h, h)
        if qk_norm:
            k += [(name + ".ln_q.weight", [head_dim]), (name + ".ln_k.weight", [head_dim])]
        return k

    def mlp(name):
        return linear(name + ".fc1", mlp_ratio * h, h) + linear(name + ".fc2", h, mlp_ratio * h)

    for i in range(depth):
        b = "joint_blocks.%d." % i
        last = i == depth - 1
        x = b + "x_block."
        keys += linear(x + "adaLN_modulation.1", (9 if i in dual else 6) * h, h)
        keys += attention(x + "attn", True) + mlp(x + "mlp")
        if i in dual:
            keys += attention(x + "attn2", True)
        c = b + "context_block."
        # the last block's context stream is "pre only": no output projection, no MLP, shift+scale only
        keys += linear(c + "adaLN_modulation.1", (2 if last else 6) * h, h) + attention(c + "attn", not last)
        if not last:
            keys += mlp(c + "mlp")
    return keys


def vae_keys(ch, layers, latent, image_ch=3):
    """The LDM autoencoder names (no quant_conv / post_quant_conv for SD3), without first_stage_model."""
    keys = []

    def conv(name, n_out, n_in, k):
        return [(name + ".weight", [n_out, n_in, k, k]), (name + ".bias", [n_out])]

    def norm(name, c):
        return [(name + ".weight", [c]), (name + ".bias", [c])]

    def resnet(name, c_in, c_out):
        k = norm(name + ".norm1", c_in) + conv(name + ".conv1", c_out, c_in, 3)
        k += norm(name + ".norm2", c_out) + conv(name + ".conv2", c_out, c_out, 3)
        if c_in != c_out:
            k += conv(name + ".nin_shortcut", c_out, c_in, 1)
        return k

    def mid(name, c):
        k = resnet(name + ".block_1", c, c) + resnet(name + ".block_2", c, c) + norm(name + ".attn_1.norm", c)
        for p in ("q", "k", "v", "proj_out"):
            k += conv(name + ".attn_1." + p, c, c, 1)
        return k

    levels = len(ch)
    keys += conv("encoder.conv_in", ch[0], image_ch, 3)
    c_in = ch[0]
    for i in range(levels):
        for j in range(layers):
            keys += resnet("encoder.down.%d.block.%d" % (i, j), c_in, ch[i])
            c_in = ch[i]
        if i < levels - 1:
            keys += conv("encoder.down.%d.downsample.conv" % i, ch[i], ch[i], 3)
    keys += mid("encoder.mid", ch[-1]) + norm("encoder.norm_out", ch[-1])
    keys += conv("encoder.conv_out", 2 * latent, ch[-1], 3)

    # decoder: up.I is level I (up.0 the full-resolution level), built from the deepest level up
    keys += conv("decoder.conv_in", ch[-1], latent, 3) + mid("decoder.mid", ch[-1])
    c_in = ch[-1]
    for i in reversed(range(levels)):
        for j in range(layers + 1):
            keys += resnet("decoder.up.%d.block.%d" % (i, j), c_in, ch[i])
            c_in = ch[i]
        if i > 0:
            keys += conv("decoder.up.%d.upsample.conv" % i, ch[i], ch[i], 3)
    keys += norm("decoder.norm_out", ch[0]) + conv("decoder.conv_out", image_ch, ch[0], 3)
    return keys


def clip_keys(layers, width, mlp, vocab, positions, proj):
    """transformers' CLIPTextModelWithProjection names."""
    t = "text_model."
    keys = [(t + "embeddings.token_embedding.weight", [vocab, width]),
            (t + "embeddings.position_embedding.weight", [positions, width]),
            (t + "final_layer_norm.weight", [width]), (t + "final_layer_norm.bias", [width]),
            ("text_projection.weight", [proj, width])]
    for i in range(layers):
        b = t + "encoder.layers.%d." % i
        for n in ("layer_norm1", "layer_norm2"):
            keys += [(b + n + ".weight", [width]), (b + n + ".bias", [width])]
        for p in ("q_proj", "k_proj", "v_proj", "out_proj"):
            keys += [(b + "self_attn." + p + ".weight", [width, width]), (b + "self_attn." + p + ".bias", [width])]
        keys += [(b + "mlp.fc1.weight", [mlp, width]), (b + "mlp.fc1.bias", [mlp]),
                 (b + "mlp.fc2.weight", [width, mlp]), (b + "mlp.fc2.bias", [width])]
    return keys


def t5_keys(layers, d_model, d_kv, heads, d_ff, vocab, buckets):
    """transformers' T5EncoderModel names (gated-gelu feed-forward, no biases)."""
    inner = heads * d_kv
    keys = [("shared.weight", [vocab, d_model]), ("encoder.final_layer_norm.weight", [d_model])]
    for i in range(layers):
        b = "encoder.block.%d.layer." % i
        keys += [(b + "0.SelfAttention.q.weight", [inner, d_model]), (b + "0.SelfAttention.k.weight", [inner, d_model]),
                 (b + "0.SelfAttention.v.weight", [inner, d_model]), (b + "0.SelfAttention.o.weight", [d_model, inner]),
                 (b + "0.layer_norm.weight", [d_model]),
                 (b + "1.DenseReluDense.wi_0.weight", [d_ff, d_model]),
                 (b + "1.DenseReluDense.wi_1.weight", [d_ff, d_model]),
                 (b + "1.DenseReluDense.wo.weight", [d_model, d_ff]), (b + "1.layer_norm.weight", [d_model])]
        if i == 0:  # only the first block holds the relative position table
            keys.append((b + "0.SelfAttention.relative_attention_bias.weight", [buckets, heads]))
    return keys


def prefixed(prefix, keys):
    return [(prefix + n, s) for n, s in keys]


def single_file_keys(mmdit, vae):
    return prefixed("model.diffusion_model.", mmdit_keys(**mmdit)) + prefixed("first_stage_model.", vae_keys(**vae))


# ---- values -------------------------------------------------------------------------------------------------

def is_norm_scale(name):
    """Multiplicative norm weights (GroupNorm, LayerNorm, RMSNorm): around 1, not around 0."""
    if not name.endswith(".weight"):
        return False
    last = name.rsplit(".", 2)[-2]
    return "norm" in last or last in ("ln_q", "ln_k")


def value_chunks(seed, name, shape):
    """float32 chunks of the tensor's values in row-major order; the same for a given (seed, name)."""
    rng = np.random.Generator(np.random.PCG64([seed, zlib.crc32(name.encode())]))
    total = int(np.prod(shape))
    offset = 1.0 if is_norm_scale(name) else 0.0
    done = 0
    while done < total:
        n = min(CHUNK, total - done)
        v = rng.standard_normal(n, dtype=np.float32)
        v *= STD
        if offset:
            v += offset
        yield v
        done += n


# ---- float8 E4M3FN (OCP): sign, 4 exponent bits (bias 7), 3 mantissa bits, no infinities, S.1111.111 NaN ----

E4M3_MAX_CODE = 0x7E  # 448


def e4m3_decode_table():
    t = np.zeros(256, dtype=np.float64)
    for code in range(256):
        e, m = (code >> 3) & 0xF, code & 7
        v = m * 2.0 ** -9 if e == 0 else (1 + m / 8) * 2.0 ** (e - 7)
        t[code] = -v if code & 0x80 else v
    t[0x7F] = t[0xFF] = np.nan
    return t


def to_e4m3(x):
    """float32 -> E4M3FN bytes, round to nearest, ties to even; beyond 448 saturates to ±448 (never NaN)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    bits = x.view(np.uint32)
    sign = ((bits >> 24) & 0x80).astype(np.uint8)
    mag = bits & np.uint32(0x7FFFFFFF)
    # normal range (|x| >= 2^-6): drop 20 of the 23 mantissa bits with round-to-nearest-even; a carry moves
    # into the exponent, which is what rounding up to the next binade must do
    r = (mag + np.uint32(0x7FFFF) + ((mag >> 20) & np.uint32(1))) >> 20
    normal = r.astype(np.int32) - (120 << 3)  # rebias the exponent: 127 - 7 = 120
    # subnormals (|x| < 2^-6) are multiples of 2^-9: rint is ties-to-even, and ×512 is exact; 8 -> 2^-6 (code 8)
    small = np.rint(np.abs(x) * np.float32(512)).astype(np.int32)
    code = np.where(mag < np.uint32(0x3C800000), small, normal)  # 0x3C800000 = 2^-6
    code = np.minimum(code, E4M3_MAX_CODE).astype(np.uint8)
    return code | sign


# ---- safetensors writer -------------------------------------------------------------------------------------

DTYPES = {"F16": (np.dtype("<f2"), 2), "F32": (np.dtype("<f4"), 4), "F8_E4M3": (None, 1)}


def encode(values, dtype):
    if dtype == "F8_E4M3":
        return to_e4m3(values)
    return values.astype(DTYPES[dtype][0])


def header_bytes(tensors, metadata):
    """tensors: [(name, shape, dtype)] in file order. Returns the padded header and the data size."""
    header, offset = {}, 0
    for name, shape, dtype in tensors:
        size = int(np.prod(shape)) * DTYPES[dtype][1]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the reference writer pads with spaces so the data starts 8-aligned
    return raw, offset


def write_safetensors(outputs, keys, seed, metadata=None, log=None):
    """Writes one key list into one or more files at once, each [(path, dtype)]: the values are generated
    once per chunk and encoded for every file (the fp16 and fp8 T5 share their values)."""
    keys = sorted(keys)
    handles = []
    for path, dtype in outputs:
        raw, size = header_bytes([(n, s, dtype) for n, s in keys], metadata)
        f = open(path + ".part", "wb")
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        handles.append((f, dtype, path, 8 + len(raw) + size))
    t0 = time.time()
    count = 0
    for i, (name, shape) in enumerate(keys):
        for chunk in value_chunks(seed, name, shape):
            for f, dtype, _, _ in handles:
                f.write(memoryview(encode(chunk, dtype)))
            count += chunk.size
        if log and (i % 50 == 49 or i == len(keys) - 1):
            log("  %s: %d/%d tensors, %.1f M values, %.0f s" % (os.path.basename(outputs[0][0]), i + 1, len(keys),
                                                                  count / 1e6, time.time() - t0))
    for f, _, path, expected in handles:
        f.close()
        if os.path.getsize(path + ".part") != expected:
            raise SystemExit("%s: wrote %d bytes, expected %d" % (path, os.path.getsize(path + ".part"), expected))
        os.replace(path + ".part", path)
    return count


def read_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return n, json.loads(f.read(n))


# ---- the checkpoint -----------------------------------------------------------------------------------------

def write_checkpoint(out, seed, mmdit, vae, clip_l, clip_g, t5, name="sd3.5_medium.safetensors",
                     title="SD3.5 Medium", log=print):
    """The single file, and text_encoders/ unless it is already there (Medium and Large share the encoders)."""
    enc = os.path.join(out, "text_encoders")
    shared = all(os.path.exists(os.path.join(out, f)) for f in checkpoint_files(mmdit, vae, clip_l, clip_g, t5)
                 if f.startswith("text_encoders/"))
    os.makedirs(enc, exist_ok=True)
    note = "random weights with the architecture of %s (SD3 Studio, assets/recipes/full-size/" \
           "checkpoint.py, seed %d); not a trained model" % (title, seed)
    meta = {"format": "pt", "sd3studio": note}
    counts = {}
    counts["mmdit+vae"] = write_safetensors([(os.path.join(out, name), "F16")], single_file_keys(mmdit, vae),
                                            seed, meta, log)
    if shared:
        log("text_encoders/ exists: kept")
        return counts
    counts["clip_l"] = write_safetensors([(os.path.join(enc, "clip_l.safetensors"), "F16")], clip_keys(**clip_l),
                                         seed, meta, log)
    counts["clip_g"] = write_safetensors([(os.path.join(enc, "clip_g.safetensors"), "F16")], clip_keys(**clip_g),
                                         seed, meta, log)
    counts["t5xxl"] = write_safetensors([(os.path.join(enc, "t5xxl_fp16.safetensors"), "F16"),
                                         (os.path.join(enc, "t5xxl_fp8_e4m3fn.safetensors"), "F8_E4M3")],
                                        t5_keys(**t5), seed, meta, log)
    return counts


def param_count(keys):
    return sum(int(np.prod(s)) for _, s in keys)


# ---- self-test ----------------------------------------------------------------------------------------------

def tiny_dims(folder):
    """The rules' dimensions from a fixture's diffusers-style config/ folder."""
    def cfg(sub):
        with open(os.path.join(folder, "config", sub, "config.json")) as f:
            return json.load(f)
    tr, va = cfg("transformer"), cfg("vae")
    mmdit = dict(depth=tr["num_layers"], heads=tr["num_attention_heads"], head_dim=tr["attention_head_dim"],
                 joint_dim=tr["joint_attention_dim"], pooled_dim=tr["pooled_projection_dim"], patch=tr["patch_size"],
                 in_ch=tr["in_channels"], out_ch=tr["out_channels"], pos_max=tr["pos_embed_max_size"],
                 qk_norm=tr.get("qk_norm") is not None, dual=list(tr.get("dual_attention_layers") or []),
                 mlp_ratio=4)
    vae = dict(ch=va["block_out_channels"], layers=va["layers_per_block"], latent=va["latent_channels"])

    def clip(c):
        return dict(layers=c["num_hidden_layers"], width=c["hidden_size"], mlp=c["intermediate_size"],
                    vocab=c["vocab_size"], positions=c["max_position_embeddings"], proj=c["projection_dim"])
    t = cfg("text_encoder_3")
    t5 = dict(layers=t["num_layers"], d_model=t["d_model"], d_kv=t["d_kv"], heads=t["num_heads"], d_ff=t["d_ff"],
              vocab=t["vocab_size"], buckets=t["relative_attention_num_buckets"])
    return mmdit, vae, clip(cfg("text_encoder")), clip(cfg("text_encoder_2")), t5


def header_keys(path):
    _, h = read_header(path)
    return {k: (tuple(v["shape"]), v["dtype"]) for k, v in h.items() if k != "__metadata__"}


def expect_same(what, generated, fixture):
    missing, extra = sorted(set(fixture) - set(generated)), sorted(set(generated) - set(fixture))
    wrong = sorted(k for k in set(fixture) & set(generated) if fixture[k] != generated[k])
    if missing or extra or wrong:
        raise SystemExit("%s differs from the fixture:\n  missing %s\n  extra %s\n  wrong shape/dtype %s"
                         % (what, missing[:10], extra[:10], [(k, generated[k], fixture[k]) for k in wrong[:10]]))
    print("  %-60s %4d keys, names, shapes and dtypes equal" % (what, len(fixture)))


def test_e4m3():
    table = e4m3_decode_table()
    finite = np.array([c for c in range(256) if not np.isnan(table[c])])
    # round trip: every finite code decodes and re-encodes to itself
    assert (to_e4m3(table[finite].astype(np.float32)) == finite).all(), "E4M3 round trip"
    # midpoints between neighbouring positive codes go to the even code (ties to even)
    pos = np.arange(0, E4M3_MAX_CODE + 1)
    mids = ((table[pos[:-1]] + table[pos[1:]]) / 2).astype(np.float32)
    assert (mids.astype(np.float64) == (table[pos[:-1]] + table[pos[1:]]) / 2).all()  # exact in float32
    got = to_e4m3(mids)
    want = np.where(pos[:-1] % 2 == 0, pos[:-1], pos[1:])
    assert (got == want).all(), "E4M3 ties to even: %s" % list(zip(mids[got != want], got[got != want]))
    # random values of all magnitudes: the code is a nearest one (checked against the table by brute force)
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(200000) * np.exp2(rng.uniform(-14, 9, 200000))).astype(np.float32)
    x = x[np.abs(x) <= 448]
    code = to_e4m3(x)
    err = np.abs(table[code] - x.astype(np.float64))
    best = np.min(np.abs(table[finite][None, :] - x[:5000, None].astype(np.float64)), axis=1)
    assert (err[:5000] == best).all(), "E4M3 not nearest"
    assert (to_e4m3(np.array([448.0, 460.0, 1e6, -1e6], np.float32)) == [0x7E, 0x7E, 0x7E, 0xFE]).all()
    assert not np.isnan(table[to_e4m3(x)]).any()
    print("  E4M3 encoder: round trip of all %d finite codes, %d ties to even, %d random values nearest"
          % (len(finite), len(mids), len(x)))


def checkpoint_files(mmdit, vae, clip_l, clip_g, t5, name="sd3.5_medium.safetensors"):
    return {name: (single_file_keys(mmdit, vae), "F16"),
            "text_encoders/clip_l.safetensors": (clip_keys(**clip_l), "F16"),
            "text_encoders/clip_g.safetensors": (clip_keys(**clip_g), "F16"),
            "text_encoders/t5xxl_fp16.safetensors": (t5_keys(**t5), "F16"),
            "text_encoders/t5xxl_fp8_e4m3fn.safetensors": (t5_keys(**t5), "F8_E4M3")}


def check_folder(out, seed, mmdit, vae, clip_l, clip_g, t5, every=1, name="sd3.5_medium.safetensors"):
    """Reads a written checkpoint back: every header against the key rules, contiguous offsets, the file
    size, and for every `every`-th tensor its first chunk of stored values against the generated ones."""
    table = e4m3_decode_table()
    for rel, (keys, dtype) in checkpoint_files(mmdit, vae, clip_l, clip_g, t5, name).items():
        path = os.path.join(out, rel)
        n, h = read_header(path)
        assert n % 8 == 0, "header not padded"
        expect_same(rel, {k: (tuple(s), dtype) for k, s in keys}, header_keys(path))
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
        end, checked = 0, 0
        for i, name in enumerate(sorted(k for k in h if k != "__metadata__")):
            b, e = h[name]["data_offsets"]
            assert b == end, "gap or overlap before " + name
            end = e
            if i % every:
                continue
            want = next(value_chunks(seed, name, h[name]["shape"]))
            raw = np.asarray(data[b:b + want.size * DTYPES[dtype][1]])
            if dtype == "F8_E4M3":
                got = table[raw].astype(np.float32)
                assert (got == table[to_e4m3(want)].astype(np.float32)).all(), name
                # at most half a step of E4M3 (relative 1/16; absolute 2^-10 among subnormals)
                assert (np.abs(got - want) <= np.maximum(np.abs(want) / 16, 2.0 ** -10) + 1e-12).all(), name
            else:
                got = raw.view("<f2").astype(np.float32)
                assert (got == want.astype(np.float16).astype(np.float32)).all(), name
            if is_norm_scale(name):
                assert abs(got.mean() - 1) < 0.05, name
            checked += 1
        assert end == len(data), "%s: %d data bytes, headers say %d" % (rel, len(data), end)
        print("  %-60s offsets contiguous, size right, values of %d tensors as generated" % (rel, checked))


def self_test(seed):
    print("key rules against the fixtures:")
    sai = os.path.join(FIXTURES, "tiny-sd35-sai-fp32")
    comfy = os.path.join(FIXTURES, "tiny-sd35-comfy-fp16-t5fp8")
    dims = tiny_dims(sai)
    assert dims == tiny_dims(comfy)
    mmdit, vae, clip_l, clip_g, t5 = dims

    def typed(keys, dtype):
        return {n: (tuple(s), dtype) for n, s in keys}

    # Stability AI's file with the encoders inside, all float32
    inside = single_file_keys(mmdit, vae)
    for stem, keys in (("clip_l", clip_keys(**clip_l)), ("clip_g", clip_keys(**clip_g)), ("t5xxl", t5_keys(**t5))):
        inside += prefixed("text_encoders.%s.transformer." % stem, keys)
    expect_same("tiny-sd35-sai-fp32/tiny-sd35.safetensors", typed(inside, "F32"),
                header_keys(os.path.join(sai, "tiny-sd35.safetensors")))
    # the same layout with the encoders in text_encoders/, F16 and an F8_E4M3 T5
    expect_same("tiny-sd35-comfy-fp16-t5fp8/tiny-sd35.safetensors", typed(single_file_keys(mmdit, vae), "F16"),
                header_keys(os.path.join(comfy, "tiny-sd35.safetensors")))
    for file, keys, dtype in (("clip_l.safetensors", clip_keys(**clip_l), "F16"),
                              ("clip_g.safetensors", clip_keys(**clip_g), "F16"),
                              ("t5xxl_fp8_e4m3fn.safetensors", t5_keys(**t5), "F8_E4M3")):
        expect_same("tiny-sd35-comfy-fp16-t5fp8/text_encoders/" + file, typed(keys, dtype),
                    header_keys(os.path.join(comfy, "text_encoders", file)))
    test_e4m3()
    with tempfile.TemporaryDirectory() as tmp:
        write_checkpoint(tmp, seed, *dims, log=None)
        print("wrote the tiny checkpoint and read it back:")
        check_folder(tmp, seed, *dims)
    print("full-size parameter counts (M): MMDiT %.1f, VAE %.1f, CLIP-L %.1f, CLIP-G %.1f, T5 %.1f"
          % tuple(param_count(k) / 1e6 for k in (mmdit_keys(**MMDIT_SD35_MEDIUM), vae_keys(**VAE_SD3),
                                                 clip_keys(**CLIP_L), clip_keys(**CLIP_G), t5_keys(**T5_XXL))))
    print("self-test passed")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", help="folder to write into")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--model", choices=sorted(MODELS), default="medium",
                   help="which MMDiT to write (large: 16 GB; text_encoders/ is shared and written once)")
    p.add_argument("--self-test", action="store_true", help="check the key rules against the tiny fixtures")
    p.add_argument("--check", action="store_true", help="read a written --out back (headers, sizes, sample values)")
    a = p.parse_args()
    if a.self_test:
        self_test(a.seed)
        return
    if a.check:
        t0 = time.time()
        mmdit, name, _ = MODELS[a.model]
        check_folder(a.out, a.seed, mmdit, VAE_SD3, CLIP_L, CLIP_G, T5_XXL, every=10, name=name)
        print("check passed, %.0f s" % (time.time() - t0))
        return
    if not a.out:
        p.error("--out is required")
    t0 = time.time()
    mmdit, name, title = MODELS[a.model]
    counts = write_checkpoint(a.out, a.seed, mmdit, VAE_SD3, CLIP_L, CLIP_G, T5_XXL, name, title)
    print("values written (M): " + ", ".join("%s %.1f" % (k, v / 1e6) for k, v in counts.items()))
    for root, _, files in os.walk(a.out):
        for f in sorted(files):
            path = os.path.join(root, f)
            print("  %-50s %8.3f GiB" % (os.path.relpath(path, a.out), os.path.getsize(path) / 2 ** 30))
    print("wall %.0f s, peak RSS %.0f MiB" % (time.time() - t0,
                                            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == "__main__":
    sys.exit(main())
