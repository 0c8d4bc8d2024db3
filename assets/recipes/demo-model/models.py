"""Small re-implementations (our own code) of the SD3 components, sized for 64x64 scenes."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# The Debian torch build has only a generic BLAS (about 3 GFLOP/s here) but oneDNN convolutions
# (20-80 GFLOP/s), so for training every Linear runs as an equivalent 1x1 convolution.
# Export switches FAST off so the ONNX graphs contain ordinary MatMul/Gemm.
FAST = True


class Linear(nn.Linear):
    def forward(self, x):
        if not FAST:
            return F.linear(x, self.weight, self.bias)
        shp = x.shape
        x2 = x.reshape(-1, shp[-1]).t().reshape(1, shp[-1], -1, 1)
        y = F.conv2d(x2, self.weight[:, :, None, None], self.bias)
        return y.reshape(self.out_features, -1).t().reshape(*shp[:-1], self.out_features)


# ------------------------------------------------------------------ text encoders
def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class ClipLayer(nn.Module):
    def __init__(self, d, heads, ffn, act):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = Linear(d, 3 * d)
        self.out = Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = Linear(d, ffn)
        self.fc2 = Linear(ffn, d)
        self.act = quick_gelu if act == "quick_gelu" else F.gelu

    def forward(self, x, mask):
        B, S, D = x.shape
        h = self.ln1(x)
        q, k, v = self.qkv(h).reshape(B, S, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // self.heads) + mask, dim=-1) @ v
        x = x + self.out(a.transpose(1, 2).reshape(B, S, D))
        return x + self.fc2(self.act(self.fc1(self.ln2(x))))


class ClipText(nn.Module):
    """CLIPTextModelWithProjection-like: causal pre-LN transformer, pooled at the first EOS."""

    def __init__(self, vocab_size, d, layers, heads, ffn, proj, eos_id, act="quick_gelu", max_pos=77):
        super().__init__()
        self.eos_id = eos_id
        self.tok = nn.Embedding(vocab_size, d)
        self.pos = nn.Embedding(max_pos, d)
        nn.init.normal_(self.tok.weight, std=0.5)
        nn.init.normal_(self.pos.weight, std=0.1)
        self.layers = nn.ModuleList([ClipLayer(d, heads, ffn, act) for _ in range(layers)])
        self.final_ln = nn.LayerNorm(d)
        self.proj = Linear(d, proj, bias=False)

    def forward(self, ids):
        B, S = ids.shape
        ar = torch.arange(S, device=ids.device)
        x = self.tok(ids) + self.pos(ar)[None]
        mask = torch.where(ar[None, :] > ar[:, None], torch.full((), -1e9), torch.zeros(()))
        hs = [x]
        for layer in self.layers:
            x = layer(x, mask)
            hs.append(x)
        last = self.final_ln(x)
        first_eos = (ids == self.eos_id).float().argmax(-1)
        onehot = (ar[None, :] == first_eos[:, None]).float()
        pooled = (onehot[..., None] * last).sum(1)
        return self.proj(pooled), last, hs


class T5RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


class T5Layer(nn.Module):
    def __init__(self, d, d_kv, heads, d_ff):
        super().__init__()
        self.heads, self.d_kv = heads, d_kv
        self.n1 = T5RMSNorm(d)
        self.q = Linear(d, heads * d_kv, bias=False)
        self.k = Linear(d, heads * d_kv, bias=False)
        self.v = Linear(d, heads * d_kv, bias=False)
        self.o = Linear(heads * d_kv, d, bias=False)
        self.n2 = T5RMSNorm(d)
        self.wi0 = Linear(d, d_ff, bias=False)
        self.wi1 = Linear(d, d_ff, bias=False)
        self.wo = Linear(d_ff, d, bias=False)

    def forward(self, x, bias):
        B, S, _ = x.shape
        h = self.n1(x)

        def split(t):
            return t.reshape(B, S, self.heads, self.d_kv).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        a = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1) @ v  # T5: no 1/sqrt(d) scaling
        x = x + self.o(a.transpose(1, 2).reshape(B, S, -1))
        h = self.n2(x)
        return x + self.wo(gelu_new(self.wi0(h)) * self.wi1(h))


class T5Enc(nn.Module):
    """T5EncoderModel-like (v1.1: gated-gelu, RMSNorm, bucketed relative position bias, no mask)."""

    def __init__(self, vocab_size, d, d_kv, heads, d_ff, layers, buckets=32, max_dist=128):
        super().__init__()
        self.buckets, self.max_dist, self.heads = buckets, max_dist, heads
        self.embed = nn.Embedding(vocab_size, d)
        nn.init.normal_(self.embed.weight, std=1.0)
        self.rel = nn.Embedding(buckets, heads)
        self.layers = nn.ModuleList([T5Layer(d, d_kv, heads, d_ff) for _ in range(layers)])
        self.final = T5RMSNorm(d)

    def bucket(self, rel):
        nb = self.buckets // 2
        ret = (rel > 0).long() * nb
        n = rel.abs()
        max_exact = nb // 2
        is_small = n < max_exact
        large = max_exact + (torch.log(n.float().clamp(min=1) / max_exact)
                             / math.log(self.max_dist / max_exact) * (nb - max_exact)).long()
        large = torch.clamp(large, max=nb - 1)
        return ret + torch.where(is_small, n, large)

    def forward(self, ids):
        B, S = ids.shape
        ar = torch.arange(S, device=ids.device)
        rel = ar[None, :] - ar[:, None]
        bias = self.rel(self.bucket(rel)).permute(2, 0, 1)[None]
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x, bias)
        return self.final(x)


# ------------------------------------------------------------------ MMDiT
def timestep_embedding(t, dim=256):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    a = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(a), torch.sin(a)], -1)


def sincos_2d(d, n):
    """Fixed 2-D sine-cosine table [n*n, d] (row-major over (y, x))."""
    q = d // 4
    omega = 1.0 / 10000 ** (torch.arange(q, dtype=torch.float64) / q)
    c = torch.arange(n, dtype=torch.float64) - n / 2 + 0.5
    ey = torch.cat([torch.sin(c[:, None] * omega), torch.cos(c[:, None] * omega)], 1)  # n, d/2
    y = ey[:, None, :].expand(n, n, d // 2)
    x = ey[None, :, :].expand(n, n, d // 2)
    return torch.cat([y, x], -1).reshape(n * n, d).float()


def modulate(x, shift, scale):
    return x * (1 + scale[:, None]) + shift[:, None]


class Mlp(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1 = Linear(d, hidden)
        self.fc2 = Linear(hidden, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class JointBlock(nn.Module):
    """MMDiT block: separate weights for image and text streams, one joint attention.
    With context_pre_only the text stream only supplies keys/values (like SD3's last block)."""

    def __init__(self, d, heads, context_pre_only=False, mlp_ratio=4):
        super().__init__()
        self.heads = heads
        self.pre_only = context_pre_only
        self.x_mod = Linear(d, 6 * d)
        self.x_norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.x_qkv = Linear(d, 3 * d)
        self.x_out = Linear(d, d)
        self.x_norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.x_mlp = Mlp(d, mlp_ratio * d)
        if context_pre_only:
            # text stream only supplies keys/values; it is not modulated, so one prompt's
            # keys/values can be computed once and shared by all samples that use it
            self.c_norm1 = nn.LayerNorm(d, eps=1e-6)
            self.c_kv = Linear(d, 2 * d)
        else:
            self.c_mod = Linear(d, 6 * d)
            self.c_norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
            self.c_qkv = Linear(d, 3 * d)
            self.c_out = Linear(d, d)
            self.c_norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
            self.c_mlp = Mlp(d, mlp_ratio * d)
        for m in (self.x_mod,) + (() if context_pre_only else (self.c_mod,)):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def grouped_attention(self, qx, kx, vx, kc, vc, groups):
        """Training-only joint attention for samples sorted by prompt row (groups = count per row):
        the text part runs as grouped 1x1 convolutions (oneDNN) instead of slow generic-BLAS bmm.
        Mathematically identical to the plain path below."""
        _, H, N, hd = qx.shape
        T = kc.shape[2]
        outs, o = [], 0
        for p, n in enumerate(groups):
            if n == 0:
                continue
            q = qx[o:o + n]
            inp = q.permute(1, 3, 0, 2).reshape(1, H * hd, n * N, 1)
            sc = F.conv2d(inp, kc[p].reshape(H * T, hd, 1, 1), groups=H).reshape(H, T, n, N).permute(2, 0, 3, 1)
            sx = q @ kx[o:o + n].transpose(-1, -2)
            att = torch.softmax(torch.cat([sc, sx], -1) / math.sqrt(hd), -1)
            ac, ax = att[..., :T], att[..., T:]
            inp2 = ac.permute(1, 3, 0, 2).reshape(1, H * T, n * N, 1)
            w2 = vc[p].transpose(1, 2).reshape(H * hd, T, 1, 1)
            oc = F.conv2d(inp2, w2, groups=H).reshape(H, hd, n, N).permute(2, 0, 3, 1)
            outs.append(oc + ax @ vx[o:o + n])
            o += n
        return torch.cat(outs, 0)

    def forward(self, x, c, cond, idx=None, groups=None):
        """idx (training only): row of c used by each sample of x (prompt sharing);
        groups: per-row sample counts when the samples are sorted by idx."""
        B, N, D = x.shape
        T = c.shape[1]
        H, hd = self.heads, D // self.heads
        ycond = F.silu(cond)
        xs1, xc1, xg1, xs2, xc2, xg2 = self.x_mod(ycond).chunk(6, -1)
        hx = modulate(self.x_norm1(x), xs1, xc1)
        qx, kx, vx = self.x_qkv(hx).reshape(B, N, 3, H, hd).permute(2, 0, 3, 1, 4)
        if self.pre_only:
            kc, vc = self.c_kv(self.c_norm1(c)).reshape(c.shape[0], T, 2, H, hd).permute(2, 0, 3, 1, 4)
            if groups is not None and FAST:
                a = self.grouped_attention(qx, kx, vx, kc, vc, groups).transpose(1, 2).reshape(B, N, D)
                return self.finish(x, c, a, N, T, ycond, (xs2, xc2, xg1, xg2), None)
            if idx is not None:
                kc, vc = kc[idx], vc[idx]
            q = qx
        else:
            cs1, cc1, cg1, cs2, cc2, cg2 = self.c_mod(ycond).chunk(6, -1)
            cmods = (cs2, cc2, cg1, cg2)
            hc = modulate(self.c_norm1(c), cs1, cc1)
            qc, kc, vc = self.c_qkv(hc).reshape(B, T, 3, H, hd).permute(2, 0, 3, 1, 4)
            q = torch.cat([qc, qx], 2)
        k = torch.cat([kc, kx], 2)
        v = torch.cat([vc, vx], 2)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), -1) @ v
        a = a.transpose(1, 2).reshape(B, -1, D)
        return self.finish(x, c, a, N, T, ycond, (xs2, xc2, xg1, xg2), None if self.pre_only else cmods)

    def finish(self, x, c, a, N, T, ycond, xm, cm):
        xs2, xc2, xg1, xg2 = xm
        ax = a[:, -N:]
        x = x + xg1[:, None] * self.x_out(ax)
        x = x + xg2[:, None] * self.x_mlp(modulate(self.x_norm2(x), xs2, xc2))
        if cm is not None:
            cs2, cc2, cg1, cg2 = cm
            ac = a[:, :T]
            c = c + cg1[:, None] * self.c_out(ac)
            c = c + cg2[:, None] * self.c_mlp(modulate(self.c_norm2(c), cs2, cc2))
        return x, c


class MMDiT(nn.Module):
    def __init__(self, in_ch=16, patch=2, d=128, heads=4, layers=6, joint_dim=96, pooled_dim=80,
                 pos_max=16, dual_layers=None):
        super().__init__()
        self.patch, self.in_ch, self.d, self.pos_max = patch, in_ch, d, pos_max
        self.dual_layers = 0 if dual_layers is None else dual_layers
        self.x_embed = nn.Conv2d(in_ch, d, patch, stride=patch)
        self.register_buffer("pos", sincos_2d(d, pos_max).reshape(pos_max, pos_max, d), persistent=True)
        self.t_mlp = nn.Sequential(Linear(256, d), nn.SiLU(), Linear(d, d))
        self.p_mlp = nn.Sequential(Linear(pooled_dim, d), nn.SiLU(), Linear(d, d))
        self.c_embed = Linear(joint_dim, d)
        self.blocks = nn.ModuleList([JointBlock(d, heads, context_pre_only=(i >= self.dual_layers))
                                     for i in range(layers)])
        self.norm_out = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.mod_out = Linear(d, 2 * d)
        self.proj_out = Linear(d, patch * patch * in_ch)
        for m in (self.mod_out, self.proj_out):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x, ctx, pooled, timestep, idx=None, groups=None):
        B, C, h, w = x.shape
        p = self.patch
        hp, wp = h // p, w // p
        top, left = (self.pos_max - hp) // 2, (self.pos_max - wp) // 2
        pos = self.pos[top:top + hp, left:left + wp].reshape(1, -1, self.d)
        tok = self.x_embed(x).flatten(2).transpose(1, 2) + pos
        cond = self.t_mlp(timestep_embedding(timestep)) + self.p_mlp(pooled if idx is None else pooled[idx])
        c = self.c_embed(ctx)
        for blk in self.blocks:
            tok, c = blk(tok, c, cond, idx, groups)
        sh, sc = self.mod_out(F.silu(cond)).chunk(2, -1)
        out = self.proj_out(modulate(self.norm_out(tok), sh, sc))  # B, hp*wp, p*p*C
        out = out.reshape(B, hp, wp, p, p, C).permute(0, 5, 1, 3, 2, 4).reshape(B, C, h, w)
        return out


# ------------------------------------------------------------------ VAE
class Res(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.conv(F.silu(x))


class VAEEncoder(nn.Module):
    """64x64x3 in [-1,1] -> 8x8x32 = [mean | logvar] (3 stride-2 stages). The posterior's standard
    deviation is held at min_std or more: with nothing but the weak KL term it fell to 0.02, the decoder
    only ever saw exact latents, and the transformer's slightly-off latents decoded to blobs."""

    def __init__(self, ch=(24, 48, 64), latent=16, min_std=0.1):
        super().__init__()
        self.min_logvar = 2 * math.log(min_std)
        layers, cin = [], 3
        for c in ch:
            layers += [nn.Conv2d(cin, c, 3, stride=2, padding=1), Res(c), nn.SiLU()]
            cin = c
        layers += [Res(cin), nn.Conv2d(cin, 2 * latent, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        mean, logvar = self.net(x).chunk(2, 1)
        return torch.cat([mean, logvar.clamp(min=self.min_logvar)], 1)


class VAEDecoder(nn.Module):
    """8x8x16 latent (VAE space) -> 64x64x3 in ~[-1,1]."""

    def __init__(self, ch=(64, 48, 24), latent=16):
        super().__init__()
        layers = [nn.Conv2d(latent, ch[0], 3, padding=1), Res(ch[0]), Res(ch[0])]
        cin = ch[0]
        for c in ch[1:]:
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, c, 3, padding=1), Res(c)]
            cin = c
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, 16, 3, padding=1), nn.SiLU(),
                   nn.Conv2d(16, 3, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z)


class Refiner(nn.Module):
    """Full-resolution residual sharpener applied to the decoder output (trained last)."""

    def __init__(self, c=24):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, c, 3, padding=1), Res(c), Res(c), Res(c), nn.SiLU(),
                                 nn.Conv2d(c, 3, 3, padding=1))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, y):
        return y + self.net(y)


class RefinedDecoder(nn.Module):
    def __init__(self, base, refiner):
        super().__init__()
        self.base, self.refiner = base, refiner

    def forward(self, z):
        return self.refiner(self.base(z))


# ------------------------------------------------------------------ tiny preview autoencoder
class TinyBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return F.relu(x + self.c2(F.relu(self.c1(x))))


class TinyDecoder(nn.Module):
    """TAESD-like: input clamp tanh(x/3)*3, conv/relu blocks, 3 nearest upsamplings, output [-1,1]."""

    def __init__(self, c=24, latent=16):
        super().__init__()
        layers = [nn.Conv2d(latent, c, 3, padding=1), nn.ReLU()]
        for _ in range(3):
            layers += [TinyBlock(c), nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv2d(c, c, 3, padding=1, bias=False)]
        layers += [TinyBlock(c), nn.Conv2d(c, 3, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(torch.tanh(z / 3) * 3)


class TinyEncoder(nn.Module):
    def __init__(self, c=24, latent=16):
        super().__init__()
        layers = [nn.Conv2d(3, c, 3, padding=1), TinyBlock(c)]
        for _ in range(3):
            layers += [nn.Conv2d(c, c, 3, stride=2, padding=1, bias=False), TinyBlock(c)]
        layers += [nn.Conv2d(c, latent, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
