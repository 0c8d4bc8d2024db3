"""Torch modules with the exact parameter layout of the SD3 / SD3.5 components and the Optimum ONNX
interface (input and output names as the engine loads them). Written from the published architectures
(diffusers SD3Transformer2DModel / AutoencoderKL, transformers CLIPTextModelWithProjection /
T5EncoderModel); no code or weights copied. Only the forward pass the export needs is implemented."""
import math

import torch
from torch import nn
import torch.nn.functional as F


# ---------------------------------------------------------------- text encoders

class ClipLayer(nn.Module):
    def __init__(self, d, heads, ffn, act):
        super().__init__()
        self.heads = heads
        self.layer_norm1 = nn.LayerNorm(d, eps=1e-5)
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))
        self.layer_norm2 = nn.LayerNorm(d, eps=1e-5)
        self.fc1 = nn.Linear(d, ffn)
        self.fc2 = nn.Linear(ffn, d)
        self.act = act

    def forward(self, x, mask):
        b, s, d = x.shape
        h = self.layer_norm1(x)
        split = lambda t: t.reshape(b, s, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q_proj(h)), split(self.k_proj(h)), split(self.v_proj(h))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads) + mask, dim=-1) @ v
        x = x + self.out_proj(a.transpose(1, 2).reshape(b, s, d))
        h = self.fc1(self.layer_norm2(x))
        h = h * torch.sigmoid(1.702 * h) if self.act == "quick_gelu" else F.gelu(h)
        return x + self.fc2(h)


class ClipText(nn.Module):
    """CLIPTextModelWithProjection; pooled at the highest token id (the legacy eos_token_id = 2 rule
    of the SD3 CLIP configs: <|endoftext|> has the highest id). Outputs text_embeds, last_hidden_state,
    hidden_states.0..N."""

    def __init__(self, vocab, d, layers, heads, ffn, proj, act):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d)
        self.position_embedding = nn.Embedding(77, d)
        self.layers = nn.ModuleList(ClipLayer(d, heads, ffn, act) for _ in range(layers))
        self.final_layer_norm = nn.LayerNorm(d, eps=1e-5)
        self.text_projection = nn.Linear(d, proj, bias=False)

    def forward(self, input_ids):
        s = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.position_embedding.weight[:s].unsqueeze(0)
        mask = torch.full((s, s), -1e4).triu(1)  # finite, so fp16 exports do not produce NaN rows
        hs = [x]
        for layer in self.layers:
            x = layer(x, mask)
            hs.append(x)
        last = self.final_layer_norm(x)
        pooled = last[torch.arange(last.shape[0]), input_ids.argmax(-1)]
        return (self.text_projection(pooled), last, *hs)


class T5Layer(nn.Module):
    def __init__(self, d, heads, d_kv, d_ff, has_bias):
        super().__init__()
        inner = heads * d_kv
        self.heads, self.d_kv = heads, d_kv
        self.ln_attn = nn.Parameter(torch.ones(d))
        self.q, self.k, self.v = (nn.Linear(d, inner, bias=False) for _ in range(3))
        self.o = nn.Linear(inner, d, bias=False)
        self.relative_attention_bias = nn.Embedding(32, heads) if has_bias else None
        self.ln_ff = nn.Parameter(torch.ones(d))
        self.wi_0 = nn.Linear(d, d_ff, bias=False)
        self.wi_1 = nn.Linear(d, d_ff, bias=False)
        self.wo = nn.Linear(d_ff, d, bias=False)

    @staticmethod
    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

    def forward(self, x, bias):
        b, s, _ = x.shape
        h = self.rms(x, self.ln_attn)
        split = lambda t: t.reshape(b, s, self.heads, self.d_kv).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        a = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1) @ v  # T5: no 1/sqrt(d) scaling
        x = x + self.o(a.transpose(1, 2).reshape(b, s, -1))
        h = self.rms(x, self.ln_ff)
        return x + self.wo(F.gelu(self.wi_0(h), approximate="tanh") * self.wi_1(h))


def t5_buckets(s):
    """Bidirectional relative-position buckets (32 buckets, max distance 128), as T5 computes them."""
    pos = torch.arange(s)
    rel = pos[None, :] - pos[:, None]
    nb = 16
    ret = (rel > 0).long() * nb
    n = rel.abs()
    max_exact = nb // 2
    large = max_exact + (torch.log(n.float().clamp(min=1) / max_exact) / math.log(128 / max_exact)
                         * (nb - max_exact)).long()
    large = torch.minimum(large, torch.full_like(large, nb - 1))
    return ret + torch.where(n < max_exact, n, large)


class Buckets(nn.Module):
    """Own scope, so the fp16 conversion keeps this int/float32 arithmetic in float32 (as `.float()` does
    in a real fp16 export)."""

    def forward(self, input_ids):
        return t5_buckets(input_ids.shape[1])


class T5Encoder(nn.Module):
    def __init__(self, vocab, d, layers, heads, d_kv, d_ff):
        super().__init__()
        self.bucket = Buckets()
        self.shared = nn.Embedding(vocab, d)
        self.block = nn.ModuleList(T5Layer(d, heads, d_kv, d_ff, i == 0) for i in range(layers))
        self.final_layer_norm = nn.Parameter(torch.ones(d))

    def forward(self, input_ids):
        x = self.shared(input_ids)
        bias = self.block[0].relative_attention_bias(self.bucket(input_ids)).permute(2, 0, 1).unsqueeze(0)
        for blk in self.block:
            x = blk(x, bias)
        return T5Layer.rms(x, self.final_layer_norm)


# ---------------------------------------------------------------- MMDiT

def sincos_2d(dim, grid):
    """diffusers get_2d_sincos_pos_embed(dim, grid, base_size=grid // patch?): positions scaled so the
    table is (grid, grid); values only need the right shape for a random-weight model."""
    coords = torch.arange(grid, dtype=torch.float64)
    omega = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim / 4.0))
    def emb(p):
        out = p.reshape(-1)[:, None] * omega[None]
        return torch.cat([torch.sin(out), torch.cos(out)], dim=1)
    gy, gx = torch.meshgrid(coords, coords, indexing="ij")
    return torch.cat([emb(gy), emb(gx)], dim=1).float()


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))


class Attention(nn.Module):
    """diffusers Attention with JointAttnProcessor2_0 (added_kv) or plain self-attention (attn2)."""

    def __init__(self, dim, heads, joint, context_pre_only, qk_norm):
        super().__init__()
        self.heads = heads
        hd = dim // heads
        self.to_q, self.to_k, self.to_v = (nn.Linear(dim, dim) for _ in range(3))
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])
        self.norm_q = RMSNorm(hd) if qk_norm else None
        self.norm_k = RMSNorm(hd) if qk_norm else None
        self.joint = joint
        if joint:
            self.add_q_proj, self.add_k_proj, self.add_v_proj = (nn.Linear(dim, dim) for _ in range(3))
            self.norm_added_q = RMSNorm(hd) if qk_norm else None
            self.norm_added_k = RMSNorm(hd) if qk_norm else None
            self.to_add_out = None if context_pre_only else nn.Linear(dim, dim)

    def _heads(self, t, norm):
        b, s, d = t.shape
        t = t.reshape(b, s, self.heads, d // self.heads).transpose(1, 2)
        return norm(t) if norm is not None else t

    def forward(self, x, ctx=None):
        b, n, d = x.shape
        q = self._heads(self.to_q(x), self.norm_q)
        k = self._heads(self.to_k(x), self.norm_k)
        v = self._heads(self.to_v(x), None)
        if self.joint:
            q = torch.cat([q, self._heads(self.add_q_proj(ctx), self.norm_added_q)], dim=2)
            k = torch.cat([k, self._heads(self.add_k_proj(ctx), self.norm_added_k)], dim=2)
            v = torch.cat([v, self._heads(self.add_v_proj(ctx), None)], dim=2)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1) @ v
        a = a.transpose(1, 2).reshape(b, -1, d)
        out = self.to_out[0](a[:, :n])
        if not self.joint:
            return out
        c = a[:, n:]
        return out, (self.to_add_out(c) if self.to_add_out is not None else None)


class AdaNormZero(nn.Module):
    def __init__(self, dim, chunks):
        super().__init__()
        self.linear = nn.Linear(dim, chunks * dim)
        self.chunks = chunks

    def forward(self, emb):
        return self.linear(F.silu(emb)).chunk(self.chunks, dim=1)


def ln(x, dim):
    return F.layer_norm(x, (dim,), eps=1e-6)


def modulate(x, shift, scale):
    return x * (1 + scale[:, None]) + shift[:, None]


class FeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.ModuleList([nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)])

    def forward(self, x):
        return self.net[1](F.gelu(self.net[0](x), approximate="tanh"))


class JointBlock(nn.Module):
    def __init__(self, dim, heads, context_pre_only, qk_norm, dual):
        super().__init__()
        self.dual, self.pre_only, self.dim = dual, context_pre_only, dim
        self.norm1 = AdaNormZero(dim, 9 if dual else 6)
        self.norm1_context = AdaNormZero(dim, 2 if context_pre_only else 6)
        self.attn = Attention(dim, heads, True, context_pre_only, qk_norm)
        self.attn2 = Attention(dim, heads, False, False, qk_norm) if dual else None
        self.ff = FeedForward(dim)
        self.ff_context = None if context_pre_only else FeedForward(dim)

    def forward(self, x, ctx, temb):
        m = self.norm1(temb)
        if self.dual:
            sh, sc, g, sh_m, sc_m, g_m, sh2, sc2, g2 = m
        else:
            sh, sc, g, sh_m, sc_m, g_m = m
        nx = modulate(ln(x, self.dim), sh, sc)
        mc = self.norm1_context(temb)
        if self.pre_only:
            scale_c, shift_c = mc  # AdaLayerNormContinuous order: scale, shift
            nc = ln(ctx, self.dim) * (1 + scale_c[:, None]) + shift_c[:, None]
        else:
            c_sh, c_sc, c_g, c_sh_m, c_sc_m, c_g_m = mc
            nc = modulate(ln(ctx, self.dim), c_sh, c_sc)
        a, ca = self.attn(nx, nc)
        x = x + g[:, None] * a
        if self.dual:
            x = x + g2[:, None] * self.attn2(modulate(ln(x, self.dim), sh2, sc2))
        x = x + g_m[:, None] * self.ff(modulate(ln(x, self.dim), sh_m, sc_m))
        if self.pre_only:
            return x, None
        ctx = ctx + c_g[:, None] * ca
        ctx = ctx + c_g_m[:, None] * self.ff_context(modulate(ln(ctx, self.dim), c_sh_m, c_sc_m))
        return x, ctx


class TimeProj(nn.Module):
    """diffusers Timesteps(256, flip_sin_to_cos=True, shift 0), computed in float32 (its own scope)."""

    def forward(self, t):
        half = 128
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        args = t[:, None].float() * freqs[None]
        return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class TimeTextEmbed(nn.Module):
    def __init__(self, dim, pooled):
        super().__init__()
        self.time_proj = TimeProj()
        self.timestep_embedder = nn.ModuleDict({"linear_1": nn.Linear(256, dim), "linear_2": nn.Linear(dim, dim)})
        self.text_embedder = nn.ModuleDict({"linear_1": nn.Linear(pooled, dim), "linear_2": nn.Linear(dim, dim)})

    def forward(self, t, pooled):
        tproj = self.time_proj(t).to(pooled.dtype)
        te = self.timestep_embedder
        pe = self.text_embedder
        return (te["linear_2"](F.silu(te["linear_1"](tproj)))
                + pe["linear_2"](F.silu(pe["linear_1"](pooled))))


class MMDiT(nn.Module):
    """SD3Transformer2DModel (SD3 medium: no qk norm, no dual attention; SD3.5 medium: rms qk norm and
    dual attention in the first layers)."""

    def __init__(self, cfg):
        super().__init__()
        dim = cfg["num_attention_heads"] * cfg["attention_head_dim"]
        self.patch = cfg["patch_size"]
        self.dim = dim
        self.out_ch = cfg["out_channels"]
        self.max = cfg["pos_embed_max_size"]
        self.proj = nn.Conv2d(cfg["in_channels"], dim, self.patch, stride=self.patch)
        self.register_buffer("pos_embed", sincos_2d(dim, self.max).unsqueeze(0))
        self.time_text_embed = TimeTextEmbed(dim, cfg["pooled_projection_dim"])
        self.context_embedder = nn.Linear(cfg["joint_attention_dim"], cfg["caption_projection_dim"])
        n = cfg["num_layers"]
        self.transformer_blocks = nn.ModuleList(
            JointBlock(dim, cfg["num_attention_heads"], i == n - 1, cfg["qk_norm"] is not None,
                       i in cfg["dual_attention_layers"]) for i in range(n))
        self.norm_out = nn.Linear(dim, 2 * dim)
        self.proj_out = nn.Linear(dim, self.patch * self.patch * self.out_ch)

    def forward(self, hidden_states, encoder_hidden_states, pooled_projections, timestep):
        b, _, h, w = hidden_states.shape
        p = self.patch
        gh, gw = h // p, w // p
        x = self.proj(hidden_states).flatten(2).transpose(1, 2)
        top, left = (self.max - gh) // 2, (self.max - gw) // 2
        pos = self.pos_embed.reshape(1, self.max, self.max, -1)[:, top:top + gh, left:left + gw]
        x = x + pos.reshape(1, gh * gw, -1)
        temb = self.time_text_embed(timestep, pooled_projections)
        ctx = self.context_embedder(encoder_hidden_states)
        for blk in self.transformer_blocks:
            x, ctx = blk(x, ctx, temb)
        scale, shift = self.norm_out(F.silu(temb)).chunk(2, dim=1)
        x = ln(x, self.dim) * (1 + scale[:, None]) + shift[:, None]
        x = self.proj_out(x)
        x = x.reshape(b, gh, gw, p, p, self.out_ch).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(b, self.out_ch, gh * p, gw * p)


# ---------------------------------------------------------------- VAE (AutoencoderKL)

class Resnet(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-6)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class MidAttention(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, c, eps=1e-6)
        self.to_q, self.to_k, self.to_v = (nn.Linear(c, c) for _ in range(3))
        self.to_out = nn.ModuleList([nn.Linear(c, c)])

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)
        a = torch.softmax(self.to_q(t) @ self.to_k(t).transpose(1, 2) / math.sqrt(c), dim=-1) @ self.to_v(t)
        return x + self.to_out[0](a).transpose(1, 2).reshape(b, c, h, w)


class Mid(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.resnets = nn.ModuleList([Resnet(c, c, groups), Resnet(c, c, groups)])
        self.attentions = nn.ModuleList([MidAttention(c, groups)])

    def forward(self, x):
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class Down(nn.Module):
    def __init__(self, cin, cout, n, groups, down):
        super().__init__()
        self.resnets = nn.ModuleList(Resnet(cin if i == 0 else cout, cout, groups) for i in range(n))
        self.down = nn.Conv2d(cout, cout, 3, stride=2) if down else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        return self.down(F.pad(x, (0, 1, 0, 1))) if self.down is not None else x


class Up(nn.Module):
    def __init__(self, cin, cout, n, groups, up):
        super().__init__()
        self.resnets = nn.ModuleList(Resnet(cin if i == 0 else cout, cout, groups) for i in range(n))
        self.up = nn.Conv2d(cout, cout, 3, padding=1) if up else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        return self.up(F.interpolate(x, scale_factor=2.0, mode="nearest")) if self.up is not None else x


class VaeEncoder(nn.Module):
    def __init__(self, ch, layers, latent, groups):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)
        self.down_blocks = nn.ModuleList(
            Down(ch[max(i - 1, 0)], ch[i], layers, groups, i < len(ch) - 1) for i in range(len(ch)))
        self.mid_block = Mid(ch[-1], groups)
        self.conv_norm_out = nn.GroupNorm(groups, ch[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(ch[-1], 2 * latent, 3, padding=1)

    def forward(self, sample):
        x = self.conv_in(sample)
        for d in self.down_blocks:
            x = d(x)
        return self.conv_out(F.silu(self.conv_norm_out(self.mid_block(x))))


class VaeDecoder(nn.Module):
    def __init__(self, ch, layers, latent, groups):
        super().__init__()
        rev = list(reversed(ch))
        self.conv_in = nn.Conv2d(latent, rev[0], 3, padding=1)
        self.mid_block = Mid(rev[0], groups)
        self.up_blocks = nn.ModuleList(
            Up(rev[max(i - 1, 0)], rev[i], layers + 1, groups, i < len(ch) - 1) for i in range(len(ch)))
        self.conv_norm_out = nn.GroupNorm(groups, rev[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(rev[-1], 3, 3, padding=1)

    def forward(self, latent_sample):
        x = self.mid_block(self.conv_in(latent_sample))
        for u in self.up_blocks:
            x = u(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))
