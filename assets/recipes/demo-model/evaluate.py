"""Judge-style evaluation of the trained model with the torch pipeline (same semantics as the engine)."""
import json
import os

import numpy as np
import torch
from PIL import Image

import pipeline
import scenes
import train


def grid(imgs, cols=8, scale=2):
    rows = [np.concatenate(imgs[i:i + cols] + [np.zeros_like(imgs[0])] * (cols - len(imgs[i:i + cols])), 1)
            for i in range(0, len(imgs), cols)]
    g = np.concatenate(rows, 0)
    return Image.fromarray(g).resize((g.shape[1] * scale, g.shape[0] * scale), Image.NEAREST)


def run(work, log, n=120, shift=1.0, seed=2024, steps=28, guidance=7.0, tag="eval"):
    torch.set_num_threads(2)
    m, tk = train.load_all(work)
    rng = np.random.default_rng(seed)
    specs = [scenes.random_spec(rng) for _ in range(n)]
    seeds = [int(s) for s in rng.integers(0, 2 ** 31 - 1, n)]
    ok, imgs, fails = 0, [], []
    per = {}
    for i in range(0, n, 16):
        sp = specs[i:i + 16]
        out = pipeline.generate(m, tk, [scenes.caption(*s) for s in sp], seeds[i:i + 16], steps, guidance, shift)
        for s, sd, im in zip(sp, seeds[i:i + 16], out):
            good, det = scenes.judge(im, s)
            ok += good
            imgs.append(im)
            for k in (s[1], s[2], s[3], s[4], s[0]):
                per.setdefault(k, [0, 0])
                per[k][0] += good
                per[k][1] += 1
            if not good:
                fails.append({"prompt": scenes.caption(*s), "seed": sd, **det})
    acc = ok / n
    samples = os.path.join(work, "samples")
    os.makedirs(samples, exist_ok=True)
    grid(imgs[:64]).save(os.path.join(samples, f"{tag}_grid.png"))
    np.save(os.path.join(samples, f"{tag}_images.npy"), np.stack(imgs))  # to judge again without generating
    with open(os.path.join(samples, f"{tag}_prompts.txt"), "w") as f:
        for s, sd in zip(specs[:64], seeds[:64]):
            f.write(f"{sd}\t{scenes.caption(*s)}\n")
    log(f"{tag}: judge accuracy {ok}/{n} = {acc:.3f} (shift {shift}, eval seed {seed})")
    log("per attribute:", {k: f"{a}/{b}" for k, (a, b) in per.items()})
    for f_ in fails[:20]:
        log("  fail", json.dumps(f_))
    return acc


def img2img_check(work, log, shift=1.0, n=12, seed=77):
    m, tk = train.load_all(work)
    rng = np.random.default_rng(seed)
    ok = 0
    ims = []
    for i in range(n):
        s = scenes.random_spec(rng)
        im, _ = scenes.render(s, rng)
        # same layout, different colours in the prompt
        s2 = (s[0], scenes.COLOURS[(scenes.COLOURS.index(s[1]) + 1) % 8], s[2], s[3], s[4])
        if s2[1] == s2[4]:
            s2 = (s[0], s[1], s[2], s[3], s[4])
        out = pipeline.img2img(m, tk, im, scenes.caption(*s2), seed + i, 0.3, shift=shift)
        g1, d1 = scenes.judge(im, s)
        g2, d2 = scenes.judge(out, s)  # layout check: centroid near the source position
        c1, c2 = np.array(d1["centroid"]), np.array(d2.get("centroid", (9, 9)))
        keep = np.abs(c1 - c2).max() < 0.08 and d2["bg"] == d1["bg"]
        ok += keep
        ims += [im, out]
    grid(ims, cols=8).save(os.path.join(work, "samples", "img2img.png"))
    log(f"img2img strength 0.3: layout kept {ok}/{n}")


def judge_calibration(n=3000, seed=11, log=print):
    """The judge on exact renders (ground truth must pass 100 %) and on renders of the wrong shape
    (must fail): per shape the range of the geometry measures, for choosing the thresholds."""
    rng = np.random.default_rng(seed)
    stats, ok, wrong_passed = {}, 0, 0
    for _ in range(n):
        s = scenes.random_spec(rng)
        im, _ = scenes.render(s, rng)
        good, det = scenes.judge(im, s)
        ok += good
        if not good:
            log("  ground truth failed", scenes.caption(*s), det)
        for other in scenes.SHAPES:
            if other != s[2]:
                wrong_passed += scenes.judge(im, (s[0], s[1], other, s[3], s[4]))[0]
        st = stats.setdefault((s[0], s[2]), {"fill": [], "top": []})
        st["fill"].append(det["fill"])
        st["top"].append(det["top"])
    log(f"judge on {n} exact renders: {ok}/{n} right; wrong shape accepted {wrong_passed}/{2 * n}")
    for k, st in sorted(stats.items()):
        log(f"  {k[0]:5s} {k[1]:8s} fill {min(st['fill']):.3f}..{max(st['fill']):.3f} "
            f"top {min(st['top']):.3f}..{max(st['top']):.3f}")
    return ok / n


def seed_spread(work, log, n_prompts=12, seeds=(1, 2, 3, 4), seed=5, shift=1.0):
    """Variety between seeds: scenes.spread of 4 pictures per prompt, for the model and for exact
    renders of the same prompts."""
    m, tk = train.load_all(work)
    rng = np.random.default_rng(seed)
    specs = [scenes.random_spec(rng) for _ in range(n_prompts)]
    model_sp, render_sp, all_out = [], [], []
    for s in specs:
        out = pipeline.generate(m, tk, [scenes.caption(*s)] * len(seeds), list(seeds), shift=shift)
        all_out += list(out)
        model_sp.append(scenes.spread(list(out)))
        render_sp.append(scenes.spread([scenes.render(s, rng)[0] for _ in seeds]))
    np.save(os.path.join(work, "samples", "spread_images.npy"), np.stack(all_out))
    log("seed spread model:  min %.4f median %.4f max %.4f" % (min(model_sp), np.median(model_sp), max(model_sp)))
    log("seed spread renders: min %.4f median %.4f max %.4f" % (min(render_sp), np.median(render_sp), max(render_sp)))
    return model_sp, render_sp
