"""Training stages of the demo model. Every stage is seeded; checkpoints go to --work
(outside the repository)."""
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import scenes
import toks
from models import ClipText, T5Enc, MMDiT, VAEEncoder, VAEDecoder, TinyEncoder, TinyDecoder

CFG = {
    "clip_l": dict(d=32, layers=3, heads=2, ffn=64, proj=32, act="quick_gelu"),
    "clip_g": dict(d=48, layers=3, heads=2, ffn=96, proj=48, act="gelu"),
    "t5": dict(d=96, d_kv=16, heads=4, d_ff=160, layers=2),
    "transformer": dict(d=128, heads=4, layers=6, patch=2, pos_max=16),
    "renders_per_spec": 16,
}
J = CFG["t5"]["d"]
POOLED = CFG["clip_l"]["proj"] + CFG["clip_g"]["proj"]


def seed_all(s):
    random.seed(s)
    np.random.seed(s)
    torch.manual_seed(s)


class Log:
    def __init__(self, path):
        self.f = open(path, "a")
        self.t0 = time.time()

    def __call__(self, *a):
        msg = f"[{time.time() - self.t0:7.1f}s] " + " ".join(str(x) for x in a)
        print(msg, flush=True)
        self.f.write(msg + "\n")
        self.f.flush()


def build_encoders():
    tl, tg, tt = toks.load_all()
    V = len(tl.vocab)
    cl = ClipText(V, eos_id=tl.eos, **CFG["clip_l"])
    cg = ClipText(V, eos_id=tg.eos, **CFG["clip_g"])
    c5 = CFG["t5"]
    t5 = T5Enc(len(toks.build_t5()), c5["d"], c5["d_kv"], c5["heads"], c5["d_ff"], c5["layers"])
    return (cl, cg, t5), (tl, tg, tt)


def build_transformer():
    c = CFG["transformer"]
    return MMDiT(in_ch=16, patch=c["patch"], d=c["d"], heads=c["heads"], layers=c["layers"], joint_dim=J,
                 pooled_dim=POOLED, pos_max=c["pos_max"])


def prompt_table():
    """All 1680 captions + the empty prompt (last) and their attribute labels (0 = none)."""
    specs = scenes.all_specs()
    caps = [scenes.caption(*s) for s in specs] + [""]
    lab = [[1 + scenes.SIZES.index(s[0]), 1 + scenes.COLOURS.index(s[1]), 1 + scenes.SHAPES.index(s[2]),
            1 + scenes.POSITION_NAMES.index(s[3]), 1 + scenes.COLOURS.index(s[4])] for s in specs]
    lab.append([0] * 5)
    return specs, caps, torch.tensor(lab)


# ---------------------------------------------------------------- stage: data
def stage_data(work, log, seed=1):
    rng = np.random.default_rng(seed)
    specs = scenes.all_specs()
    R = CFG["renders_per_spec"]
    imgs = np.zeros((len(specs) * R, 64, 64, 3), np.uint8)
    for i, s in enumerate(specs):
        for r in range(R):
            imgs[i * R + r] = scenes.render(s, rng)[0]
    np.save(os.path.join(work, "images.npy"), imgs)
    log("data", imgs.shape)


# ---------------------------------------------------------------- stage: text encoders
class AttrHeads(nn.Module):
    """Auxiliary heads (training only): read the 5 caption attributes from an encoder."""
    SIZES = (3, 9, 4, 6, 9)

    def __init__(self, d_tokens, d_pooled=None):
        super().__init__()
        n = sum(self.SIZES)
        self.query = nn.Parameter(torch.randn(len(self.SIZES), d_tokens) / math.sqrt(d_tokens))
        self.tok = nn.Linear(d_tokens, n)
        self.pool = nn.Linear(d_pooled, n) if d_pooled else None

    def loss(self, logits, lab):
        out, o = 0, 0
        for k, n in enumerate(self.SIZES):
            out = out + F.cross_entropy(logits[:, o:o + n], lab[:, k])
            o += n
        return out

    def forward(self, tokens, lab, pooled=None):
        att = torch.softmax(torch.einsum("qd,bsd->bqs", self.query, tokens) / math.sqrt(tokens.shape[-1]), -1)
        summ = torch.einsum("bqs,bsd->bqd", att, tokens).mean(1)
        loss = self.loss(self.tok(summ), lab)
        if self.pool is not None:
            loss = loss + self.loss(self.pool(pooled), lab)
        return loss


def stage_text(work, log, steps=300, seed=2):
    seed_all(seed)
    (cl, cg, t5), (tl, tg, tt) = build_encoders()
    specs, caps, lab = prompt_table()
    ids_l = torch.tensor([tl(c) for c in caps])
    ids_g = torch.tensor([tg(c) for c in caps])
    ids_t = torch.tensor([tt(c, 256) for c in caps])
    hl = AttrHeads(CFG["clip_l"]["d"], CFG["clip_l"]["proj"])
    hg = AttrHeads(CFG["clip_g"]["d"], CFG["clip_g"]["proj"])
    ht = AttrHeads(J)
    params = [p for m in (cl, cg, t5, hl, hg, ht) for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=0.01)
    E = len(caps) - 1
    for step in range(steps):
        lr = 2e-3 * 0.5 * (1 + math.cos(math.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = lr
        b = torch.cat([torch.randint(0, E, (31,)), torch.tensor([E])])
        S = [77, 128, 77, 256][step % 4]  # T5 sees pads as real input: train at several lengths
        pl, _, hsl = cl(ids_l[b])
        pg, _, hsg = cg(ids_g[b])
        ot = t5(ids_t[b, :S])
        loss = hl(hsl[-2], lab[b], pl) + hg(hsg[-2], lab[b], pg) + ht(ot, lab[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 0 or step == steps - 1:
            log(f"text step {step} loss {loss.item():.4f}")
    torch.save({"clip_l": cl.state_dict(), "clip_g": cg.state_dict(), "t5": t5.state_dict()},
               os.path.join(work, "text.pt"))


def load_text(work):
    (cl, cg, t5), tk = build_encoders()
    sd = torch.load(os.path.join(work, "text.pt"))
    cl.load_state_dict(sd["clip_l"])
    cg.load_state_dict(sd["clip_g"])
    t5.load_state_dict(sd["t5"])
    for m in (cl, cg, t5):
        m.eval()
    return (cl, cg, t5, J), tk


def stage_embed(work, log):
    """Frozen text encoders -> prompt_embeds/pooled for every caption (+ empty), max_seq 256."""
    from pipeline import encode_prompts
    enc, tk = load_text(work)
    _, caps, _ = prompt_table()
    embs, pools = [], []
    with torch.no_grad():
        for i in range(0, len(caps), 64):
            e, p = encode_prompts(enc, tk, caps[i:i + 64], 256)
            embs.append(e)
            pools.append(p)
    emb, pooled = torch.cat(embs), torch.cat(pools)
    torch.save({"emb": emb, "pooled": pooled}, os.path.join(work, "embeds.pt"))
    log("embeds", tuple(emb.shape), "std", emb.std().item(), "pooled std", pooled.std().item())


# ---------------------------------------------------------------- stage: VAE
def to_float(u8):
    return torch.from_numpy(u8).permute(0, 3, 1, 2).float() / 127.5 - 1


def edge_weight(x, boost=8.0):
    """Per-pixel loss weight 1 + boost near the shape's outline: corners and sides of small shapes
    are a few pixels of a 64x64 picture, and a plain MSE let the autoencoder draw every small shape
    as the same round blob."""
    d = (x - F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)).abs().sum(1, keepdim=True)
    return 1 + boost * F.max_pool2d((d > 0.05).float(), 3, 1, 1)


def weighted_loss(rec, x, l1=0.2):
    w = edge_weight(x)
    return (w * (rec - x) ** 2).mean() + l1 * (w * (rec - x).abs()).mean()


def stage_vae(work, log, steps=2000, seed=3, kl=1e-4, lr_max=1e-3):
    """From scratch, or fine-tuned from vae_init.pt in --work (the previous model's autoencoder,
    e.g. from recover.py): the latent space then stays close to the old one."""
    seed_all(seed)
    imgs = np.load(os.path.join(work, "images.npy"))
    enc, dec = VAEEncoder(), VAEDecoder()
    init = os.path.join(work, "vae_init.pt")
    if os.path.exists(init):
        sd = torch.load(init)
        enc.load_state_dict(sd["enc"])
        dec.load_state_dict(sd["dec"])
        log("vae: fine-tuning", init)
    opt = torch.optim.AdamW(list(enc.parameters()) + list(dec.parameters()), lr=lr_max, weight_decay=0.0)
    for step in range(steps):
        lr = lr_max * min(1, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        x = to_float(imgs[np.random.randint(0, len(imgs), 32)])
        if step % 2:  # random flips: cheap augmentation
            x = x.flip(3)
        mean, logvar = enc(x).chunk(2, 1)
        logvar = logvar.clamp(-30, 20)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        rec = dec(z)
        mse = F.mse_loss(rec, x)
        kld = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).mean()
        loss = weighted_loss(rec, x) + kl * kld
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(enc.parameters()) + list(dec.parameters()), 1.0)
        opt.step()
        if step % 200 == 0 or step == steps - 1:
            log(f"vae step {step} mse {mse.item():.5f} kl {kld.item():.3f} std_post "
                f"{torch.exp(0.5 * logvar).mean().item():.4f} std_mean {mean.std().item():.3f}")
    enc.eval()
    dec.eval()
    with torch.no_grad():
        means, stds = [], []
        for i in range(0, len(imgs), 256):
            m, lv = enc(to_float(imgs[i:i + 256])).chunk(2, 1)
            means.append(m)
            stds.append(torch.exp(0.5 * lv.clamp(-30, 20)))
        means, stds = torch.cat(means), torch.cat(stds)
        g = torch.Generator().manual_seed(seed)
        samp = means + stds * torch.randn(means.shape, generator=g)
        shift = samp.mean().item()
        scaling = 1.0 / samp.std().item()
    torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "shift": shift, "scaling": scaling},
               os.path.join(work, "vae.pt"))
    torch.save({"mean": means.half(), "std": stds.half()}, os.path.join(work, "latents.pt"))
    log(f"vae shift_factor {shift:.4f} scaling_factor {scaling:.4f}")


def transformer_data(work):
    """What the transformer learns from: posterior mean and std of every training picture, the VAE's
    shift and scaling, and every caption's embeddings (the empty prompt last)."""
    lat = torch.load(os.path.join(work, "latents.pt"))
    vsd = torch.load(os.path.join(work, "vae.pt"))
    e = torch.load(os.path.join(work, "embeds.pt"))
    return lat["mean"].float(), lat["std"].float(), vsd["shift"], vsd["scaling"], e["emb"], e["pooled"]


def stage_generated_pairs(work, log, n=2048, seed=8, guidance=7.0, steps=28):
    """Latents the trained transformer draws, paired with the pictures they should decode to: start from a
    training picture's latent noised to sigma 0.35-0.7 (place and size are settled there, the outline is
    not), then finish the reference 28-step Euler schedule with classifier-free guidance. The decoder later
    learns to draw these as the clean shape: fed only the encoder's exact latents, it turned the slightly
    rounded outlines the transformer draws into blobs."""
    from pipeline import schedule
    seed_all(seed)
    lmean, lstd, shift, scaling, emb, pooled = transformer_data(work)
    E = emb.shape[0] - 1
    R = CFG["renders_per_spec"]
    model = load_transformer(work)
    sig = schedule(steps, 1.0)
    P, K = 16, 4
    zs, imgs = [], []
    with torch.no_grad():
        for b in range(n // (P * K)):
            pid = torch.randint(0, E, (P,))
            img = pid.repeat_interleave(K) * R + torch.randint(0, R, (P * K,))
            x0 = (lmean[img] + lstd[img] * torch.randn(P * K, 16, 8, 8) - shift) * scaling
            start = int(np.searchsorted(-sig[:-1], -np.random.uniform(0.35, 0.7)))
            x = (1 - float(sig[start])) * x0 + float(sig[start]) * torch.randn_like(x0)
            rows = torch.cat([pid, torch.tensor([E])])
            idx = torch.cat([torch.full((P * K,), P), torch.arange(P).repeat_interleave(K)])
            order = torch.argsort(idx * (2 * P * K) + torch.arange(2 * P * K))
            back = torch.argsort(order)
            groups = torch.bincount(idx, minlength=P + 1).tolist()
            for i in range(start, steps):
                t = torch.full((2 * P * K,), float(sig[i]) * 1000)
                xx = torch.cat([x, x])[order]
                v = model(xx, emb[rows], pooled[rows], t, idx[order], groups)[back]
                vu, vc = v.chunk(2)
                x = x + (float(sig[i + 1]) - float(sig[i])) * (vu + guidance * (vc - vu))
            zs.append(x / scaling + shift)
            imgs.append(img)
            if b % 8 == 0:
                log(f"generated pairs {len(zs) * P * K}/{n}")
    torch.save({"z": torch.cat(zs).half(), "img": torch.cat(imgs)}, os.path.join(work, "generated_pairs.pt"))


def load_generated_pairs(work, log):
    path = os.path.join(work, "generated_pairs.pt")
    if not os.path.exists(path):
        return None
    gen = torch.load(path)
    log("with", len(gen["img"]), "generated pairs")
    return gen


def latent_batch(n, n_images, lmean, lstd, gen):
    """n picture indices and latents to decode: posterior samples, half of them replaced by generated
    latents when there are generated pairs."""
    i = torch.from_numpy(np.random.randint(0, n_images, n))
    z = lmean[i] + lstd[i] * torch.randn(n, 16, 8, 8)
    if gen is not None:
        h = n // 2
        j = torch.from_numpy(np.random.randint(0, len(gen["img"]), n - h))
        i = torch.cat([i[:h], gen["img"][j]])
        z = torch.cat([z[:h], gen["z"][j].float()])
    return i, z


def stage_vae_decoder(work, log, steps=1000, seed=6):
    """Sharpen the decoder with the encoder frozen (latents, shift and scaling stay valid, so this
    can run after the transformer). With generated_pairs.pt, half of each batch is the transformer's own
    latents with the pictures they stand for (stage_generated_pairs)."""
    seed_all(seed)
    imgs = np.load(os.path.join(work, "images.npy"))
    lat = torch.load(os.path.join(work, "latents.pt"))
    lmean, lstd = lat["mean"].float(), lat["std"].float()
    dec = VAEDecoder()
    dec.load_state_dict(torch.load(os.path.join(work, "vae.pt"))["dec"])
    gen = load_generated_pairs(work, log)
    opt = torch.optim.AdamW(dec.parameters(), lr=5e-4, weight_decay=0.0)
    for step in range(steps):
        lr = 5e-4 * min(1, (step + 1) / 100) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        i, z = latent_batch(32, len(imgs), lmean, lstd, gen)
        x = to_float(imgs[i.numpy()])
        rec = dec(z)
        mse = F.mse_loss(rec, x)
        loss = weighted_loss(rec, x, 0.5)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(dec.parameters(), 1.0)
        opt.step()
        if step % 250 == 0 or step == steps - 1:
            log(f"vae decoder step {step} mse {mse.item():.5f}")
    torch.save(dec.state_dict(), os.path.join(work, "vae_decoder_ft.pt"))


def stage_refiner(work, log, steps=800, seed=7):
    """Train a small full-resolution sharpener on top of the frozen decoder (edges of the flat
    shapes come out blurred otherwise, which mixes colours at the borders)."""
    from models import Refiner
    seed_all(seed)
    imgs = np.load(os.path.join(work, "images.npy"))
    lat = torch.load(os.path.join(work, "latents.pt"))
    lmean, lstd = lat["mean"].float(), lat["std"].float()
    _, dec, _, _ = load_vae(work, refined=False)
    gen = load_generated_pairs(work, log)
    ref = Refiner()
    init = os.path.join(work, "vae_refiner_init.pt")
    if os.path.exists(init):  # fine-tune the previous model's sharpener
        ref.load_state_dict(torch.load(init))
        log("refiner: fine-tuning", init)
    opt = torch.optim.AdamW(ref.parameters(), lr=1e-3, weight_decay=0.0)
    for step in range(steps):
        lr = 1e-3 * min(1, (step + 1) / 50) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        i, z = latent_batch(16, len(imgs), lmean, lstd, gen)
        x = to_float(imgs[i.numpy()])
        with torch.no_grad():
            y = dec(z)
        out = ref(y)
        mse = F.mse_loss(out, x)
        loss = weighted_loss(out, x, 0.5)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"refiner step {step} mse {mse.item():.5f} (decoder alone {F.mse_loss(y, x).item():.5f})")
    torch.save(ref.state_dict(), os.path.join(work, "vae_refiner.pt"))


def load_vae(work, refined=True):
    sd = torch.load(os.path.join(work, "vae.pt"))
    enc, dec = VAEEncoder(), VAEDecoder()
    enc.load_state_dict(sd["enc"])
    dec.load_state_dict(sd["dec"])
    ft = os.path.join(work, "vae_decoder_ft.pt")
    if os.path.exists(ft):
        dec.load_state_dict(torch.load(ft))
    rf = os.path.join(work, "vae_refiner.pt")
    if refined and os.path.exists(rf):
        from models import Refiner, RefinedDecoder
        ref = Refiner()
        ref.load_state_dict(torch.load(rf))
        dec = RefinedDecoder(dec, ref)
    enc.eval()
    dec.eval()
    return enc, dec, sd["shift"], sd["scaling"]


# ---------------------------------------------------------------- stage: transformer
def stage_transformer(work, log, steps=4000, seed=4, prompts_per_batch=8, per_prompt=8, lr_max=6e-4,
                      p_uncond=0.1, resume=True):
    seed_all(seed)
    lmean, lstd, shift, scaling, emb, pooled = transformer_data(work)
    E = emb.shape[0] - 1  # index of the empty prompt
    R = CFG["renders_per_spec"]
    model = build_transformer()
    init = os.path.join(work, "transformer_init.pt")
    if os.path.exists(init):  # fine-tune the previous model's transformer (e.g. from recover.py)
        model.load_state_dict(torch.load(init))
        log("transformer: fine-tuning", init)
    ema = build_transformer()
    ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=lr_max, weight_decay=0.0)
    start = 0
    ck = os.path.join(work, "transformer_ckpt.pt")
    if resume and os.path.exists(ck):
        sd = torch.load(ck)
        model.load_state_dict(sd["model"])
        ema.load_state_dict(sd["ema"])
        opt.load_state_dict(sd["opt"])
        start = sd["step"]
        torch.set_rng_state(sd["rng"])
        log("resumed at", start)
    log("transformer params", sum(p.numel() for p in model.parameters()))
    P, K = prompts_per_batch, per_prompt
    avg = None
    for step in range(start, steps):
        warm = min(200, max(steps // 10, 1))
        lr = lr_max * min(1, (step + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        pid = torch.randint(0, E, (P,))
        rows = torch.cat([pid, torch.tensor([E])])
        idx = torch.arange(P).repeat_interleave(K)
        drop = torch.rand(P * K) < p_uncond
        idx = torch.where(drop, torch.full_like(idx, P), idx)
        img = pid.repeat_interleave(K) * R + torch.randint(0, R, (P * K,))
        order = torch.argsort(idx * (P * K) + torch.arange(P * K))  # group samples by prompt row
        idx, img = idx[order], img[order]
        groups = torch.bincount(idx, minlength=P + 1).tolist()
        z = lmean[img] + lstd[img] * torch.randn(P * K, 16, 8, 8)
        x0 = (z - shift) * scaling
        B = P * K
        u = torch.rand(B)
        sig = torch.where(u < 0.25, torch.rand(B), torch.sigmoid(torch.randn(B)))
        noise = torch.randn_like(x0)
        s4 = sig[:, None, None, None]
        xt = (1 - s4) * x0 + s4 * noise
        v = model(xt, emb[rows], pooled[rows], sig * 1000, idx, groups)
        loss = F.mse_loss(v, noise - x0)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        d = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm, alpha=1 - d)
        avg = loss.item() if avg is None else 0.98 * avg + 0.02 * loss.item()
        if step % 25 == 0 or step == steps - 1:
            log(f"dit step {step} loss {avg:.4f} lr {lr:.2e}")
        if (step + 1) % min(500, max(steps // 6, 25)) == 0 or step == steps - 1:
            torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                        "step": step + 1, "rng": torch.get_rng_state()}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)
            torch.save(ema.state_dict(), os.path.join(work, "transformer_ema.pt"))
    torch.save(ema.state_dict(), os.path.join(work, "transformer_ema.pt"))


def load_transformer(work):
    m = build_transformer()
    m.load_state_dict(torch.load(os.path.join(work, "transformer_ema.pt")))
    m.eval()
    return m


# ---------------------------------------------------------------- stage: tiny preview autoencoder
def stage_taesd(work, log, steps=800, seed=5):
    seed_all(seed)
    imgs = np.load(os.path.join(work, "images.npy"))
    lat = torch.load(os.path.join(work, "latents.pt"))
    lmean, lstd = lat["mean"].float(), lat["std"].float()
    vsd = torch.load(os.path.join(work, "vae.pt"))
    shift, scaling = vsd["shift"], vsd["scaling"]
    dec, enc = TinyDecoder(), TinyEncoder()
    init = os.path.join(work, "taesd_init.pt")
    if os.path.exists(init):  # fine-tune the previous model's preview autoencoder
        sd = torch.load(init)
        dec.load_state_dict(sd["dec"])
        enc.load_state_dict(sd["enc"])
        log("taesd: fine-tuning", init)
    opt = torch.optim.AdamW(list(dec.parameters()) + list(enc.parameters()), lr=1e-3, weight_decay=0.0)
    for step in range(steps):
        lr = 1e-3 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        i = np.random.randint(0, len(imgs), 32)
        x = to_float(imgs[i])
        it = torch.from_numpy(i)
        z = (lmean[it] + lstd[it] * torch.randn(32, 16, 8, 8) - shift) * scaling  # transformer space
        ld = F.mse_loss(dec(z), x) + 0.2 * (dec(z) - x).abs().mean()
        le = F.mse_loss(enc(x), (lmean[it] - shift) * scaling)
        loss = ld + le
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 200 == 0 or step == steps - 1:
            log(f"taesd step {step} dec {ld.item():.5f} enc {le.item():.5f}")
    torch.save({"dec": dec.state_dict(), "enc": enc.state_dict()}, os.path.join(work, "taesd.pt"))


def load_taesd(work):
    sd = torch.load(os.path.join(work, "taesd.pt"))
    dec, enc = TinyDecoder(), TinyEncoder()
    dec.load_state_dict(sd["dec"])
    enc.load_state_dict(sd["enc"])
    dec.eval()
    enc.eval()
    return enc, dec


def load_all(work):
    enc, tk = load_text(work)
    venc, vdec, shift, scaling = load_vae(work)
    return {"enc": enc, "vae_enc": venc, "vae_dec": vdec, "shift": shift, "scaling": scaling,
            "transformer": load_transformer(work)}, tk
