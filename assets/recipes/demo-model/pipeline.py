"""Torch re-implementation of the SD3 inference pipeline exactly as docs/sd3-pipeline.md
describes it (used for evaluation; the Java engine runs the same steps on the ONNX files)."""
import numpy as np
import torch


def encode_prompts(enc, tk, prompts, max_seq=256):
    """enc = (clip_l, clip_g, t5, joint_dim); tk = (tok_l, tok_g, tok_t5)."""
    clip_l, clip_g, t5, J = enc
    ids_l = torch.tensor([tk[0](p) for p in prompts])
    ids_g = torch.tensor([tk[1](p) for p in prompts])
    ids_t = torch.tensor([tk[2](p, max_seq) for p in prompts])
    pl, _, hl = clip_l(ids_l)
    pg, _, hg = clip_g(ids_g)
    clip = torch.cat([hl[-2], hg[-2]], -1)  # penultimate hidden states
    clip = torch.nn.functional.pad(clip, (0, J - clip.shape[-1]))
    emb = torch.cat([clip, t5(ids_t)], 1)
    return emb, torch.cat([pl, pg], -1)


def shift_sigma(s, shift):
    return shift * s / (1 + (shift - 1) * s)


def schedule(n, shift):
    train = shift_sigma(np.arange(1000, 0, -1, dtype=np.float64) / 1000, shift).astype(np.float32)
    smax, smin = float(train[0]), float(train[-1])
    sig = np.linspace(smax * 1000, smin * 1000, n, dtype=np.float64) / 1000
    sig = shift_sigma(sig, shift).astype(np.float32)
    return np.concatenate([sig, np.zeros(1, np.float32)])


@torch.no_grad()
def sample(transformer, emb, pooled, neg_emb, neg_pooled, x, sigmas, guidance=7.0, start=0, callback=None):
    """Euler flow-matching loop with classifier-free guidance ([uncond, cond] batch)."""
    B = x.shape[0]
    ctx = torch.cat([neg_emb.expand(B, -1, -1), emb], 0)
    pool = torch.cat([neg_pooled.expand(B, -1), pooled], 0)
    for i in range(start, len(sigmas) - 1):
        t = torch.full((2 * B,), float(sigmas[i]) * 1000, dtype=torch.float32)
        v = transformer(torch.cat([x, x], 0), ctx, pool, t)
        vu, vc = v.chunk(2)
        v = vu + guidance * (vc - vu)
        if callback:
            callback(i, x, v)
        x = x + (float(sigmas[i + 1]) - float(sigmas[i])) * v
    return x


def to_image(decoder, x, scaling, shift):
    z = x / scaling + shift
    img = (decoder(z) / 2 + 0.5).clamp(0, 1)
    return torch.round(img.permute(0, 2, 3, 1) * 255).to(torch.uint8).numpy()


@torch.no_grad()
def generate(m, tk, prompts, seeds, steps=28, guidance=7.0, shift=1.0, max_seq=256, negative=""):
    """m: dict of torch modules + vae scaling/shift. Returns uint8 [B,64,64,3]."""
    emb, pooled = encode_prompts(m["enc"], tk, prompts, max_seq)
    nemb, npooled = encode_prompts(m["enc"], tk, [negative], max_seq)
    noise = torch.cat([torch.randn([1, 16, 8, 8], generator=torch.Generator("cpu").manual_seed(int(s)))
                       for s in seeds])
    sig = schedule(steps, shift)
    x = sample(m["transformer"], emb, pooled, nemb, npooled, noise, sig, guidance)
    return to_image(m["vae_dec"], x, m["scaling"], m["shift"])


@torch.no_grad()
def img2img(m, tk, image_u8, prompt, seed, strength=0.3, steps=28, guidance=7.0, shift=1.0):
    g = torch.Generator("cpu").manual_seed(int(seed))
    x = torch.tensor(image_u8, dtype=torch.float32).permute(2, 0, 1)[None] / 255 * 2 - 1
    par = m["vae_enc"](x)
    mean, logvar = par.chunk(2, 1)
    logvar = logvar.clamp(-30, 20)
    z = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=g)
    z0 = (z - m["shift"]) * m["scaling"]
    sig = schedule(steps, shift)
    t_start = int(max(steps - min(steps * strength, steps), 0))
    noise = torch.randn(z0.shape, generator=g)
    xs = float(sig[t_start]) * noise + (1 - float(sig[t_start])) * z0
    emb, pooled = encode_prompts(m["enc"], tk, [prompt])
    nemb, npooled = encode_prompts(m["enc"], tk, [""])
    x = sample(m["transformer"], emb, pooled, nemb, npooled, xs, sig, guidance, start=t_start)
    return to_image(m["vae_dec"], x, m["scaling"], m["shift"])[0]
