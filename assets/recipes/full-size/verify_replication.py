"""Prove that layer replication builds the same network as a direct export of the full-depth module.

At small widths (so it runs in a minute), for each replicated component of the full presets: export
the few-layer template and replicate it as build.py does (graph B); export the full-depth torch module
directly (graph A); copy A's weights into B by node position; run both with ONNX Runtime (Java, the
engine's runtime) on the same random inputs; the outputs must agree to float rounding.

    JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 /usr/bin/python3 assets/recipes/full-size/verify_replication.py
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.mapping
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build  # noqa: E402
import graph_edit  # noqa: E402
import nets  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SMALL = dict(attention_head_dim=16, num_attention_heads=4, caption_projection_dim=64, joint_attention_dim=96,
             pooled_projection_dim=80, pos_embed_max_size=32, sample_size=16)


def cases():
    ids = torch.randint(0, 49408, (1, 16))
    tr_args = (torch.randn(1, 16, 16, 16), torch.randn(1, 20, 96), torch.randn(1, 80), torch.tensor([500.0]))
    tr_in = ["hidden_states", "encoder_hidden_states", "pooled_projections", "timestep"]
    clip = lambda n: nets.ClipText(49408, 48, n, 2, 96, 48, "gelu")
    yield ("clip_g", clip, 2, 32, [("/layers.1/", 30)], (ids,), ["input_ids"],
           ["text_embeds", "last_hidden_state"] + [f"hidden_states.{i}" for i in range(3)], "hidden_states",
           "input_ids=1,16")
    t5 = lambda n: nets.T5Encoder(32128, 96, n, 4, 16, 128)
    yield ("t5", t5, 2, 24, [("/block.1/", 22)], (ids % 32128,), ["input_ids"], ["last_hidden_state"], None,
           "input_ids=1,16")
    sd3 = dict(build.MMDIT_SD3, **SMALL)
    yield ("sd3 transformer", lambda n: nets.MMDiT(dict(sd3, num_layers=n)), 3, 24,
           [("/transformer_blocks.1/", 21)], tr_args, tr_in, ["out_hidden_states"], None,
           "hidden_states=1,16,16,16 encoder_hidden_states=1,20,96 pooled_projections=1,80 timestep=1")
    sd35 = dict(build.MMDIT_SD35, **SMALL)

    def sd35_net(n):
        return nets.MMDiT(dict(sd35, num_layers=n, dual_attention_layers=[0, 1] if n == 5 else list(range(13))))
    yield ("sd35 transformer", sd35_net, 5, 24, [("/transformer_blocks.1/", 11), ("/transformer_blocks.3/", 8)],
           tr_args, tr_in, ["out_hidden_states"], None,
           "hidden_states=1,16,16,16 encoder_hidden_states=1,20,96 pooled_projections=1,80 timestep=1")


def layer_map(n_template, replicas):
    """Final layer index of template layer i and of copy j of template layer i."""
    reps = {int(re.search(r"\.(\d+)/$", p).group(1)): c for p, c in replicas}
    out, k = {}, 0
    for i in range(n_template):
        out[(i, 0)] = k
        k += 1
        for j in range(1, reps.get(i, 0) + 1):
            out[(i, j)] = k
            k += 1
    return out


def transplant(direct, replicated, scope, lmap):
    """Give every initializer of `replicated` the value its counterpart (same node, same slot) has in
    `direct`, so both graphs compute with the same weights."""
    a = onnx.load(direct)
    b = onnx.load(replicated)
    a_init = {i.name: i for i in a.graph.initializer}
    a_nodes = {n.name: n for n in a.graph.node}
    b_init = {i.name: i for i in b.graph.initializer}
    pat = re.compile(r"^/" + re.escape(scope) + r"\.(\d+)(?:__r(\d+))?/")
    done = set()
    for n in b.graph.node:
        m = pat.match(n.name)
        name = n.name
        if m:
            final = lmap[(int(m.group(1)), int(m.group(2) or 0))]
            name = f"/{scope}.{final}/" + n.name[m.end():]
        for k, t in enumerate(n.input):
            if t in b_init and t not in done:
                src = a_init[a_nodes[name].input[k]]
                b_init[t].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(src), t))
                done.add(t)
    if len(done) != len(b_init):
        raise AssertionError(f"{len(b_init) - len(done)} initializers not matched")
    onnx.save(b, replicated)


def run_ort(models, dims):
    jar = glob.glob(os.path.expanduser("~/.m2/repository/com/microsoft/onnxruntime/onnxruntime/*/onnxruntime-*.jar"))[0]
    java = os.path.join(os.environ.get("JAVA_HOME", "/usr"), "bin", "java")
    r = subprocess.run([java, "-cp", jar, os.path.join(HERE, "OrtCompare.java"), *models, *dims.split()],
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(r.stdout + r.stderr)
    return r.stdout.strip()


def main():
    torch.manual_seed(0)
    bad = 0
    tmp = tempfile.mkdtemp(prefix="fs-verify-")
    try:
        for name, make, n_t, n_full, reps, args, ins, outs, stem, dims in cases():
            d = os.path.join(tmp, name.replace(" ", "_"))
            axes = {i: {0: "b"} for i in ins}
            for k in ("input_ids",):
                if k in axes:
                    axes[k] = {0: "b", 1: "s"}
            build.export(build.randomize(make(n_t), 1), args, os.path.join(d, "t", "model.onnx"), ins, outs, axes, 14)
            full_outs = outs if not stem else outs[:2] + [f"hidden_states.{i}" for i in range(n_full + 1)]
            build.export(build.randomize(make(n_full), 2), args, os.path.join(d, "a", "model.onnx"), ins, full_outs,
                         axes, 14)
            graph_edit.finalize(os.path.join(d, "t", "model.onnx"), os.path.join(d, "b"), 3, reps,
                                stem_outputs=stem, log=lambda *x: None)
            b = os.path.join(d, "b", "model.onnx")
            m = onnx.load(b)
            onnx.save(m, b)  # embed the weights again for the transplant
            os.remove(os.path.join(d, "b", "model.onnx_data"))
            scope = {"clip_g": "layers", "t5": "block"}.get(name, "transformer_blocks")
            transplant(os.path.join(d, "a", "model.onnx"), b, scope, layer_map(n_t, reps))
            res = run_ort([os.path.join(d, "a", "model.onnx"), b], dims)
            print(f"{name}: {n_t} exported + replicated to {n_full} layers vs direct export: {res}")
            worst = max(float(x) for x in re.findall(r"max_abs_diff=([0-9.eE+-]+)", res))
            if "outputs=" not in res or worst > 1e-4:
                bad += 1
            if name == "sd35 transformer":  # and the fp16 conversion of the replicated graph runs
                graph_edit.finalize(b, os.path.join(d, "h"), 3, fp16=True,
                                    keep_fp32_scopes=("/time_text_embed/time_proj/",), log=lambda *x: None)
                print("  fp16 of it vs fp32:", run_ort([b, os.path.join(d, "h", "model.onnx")], dims))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("FAILED" if bad else "all equal")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
