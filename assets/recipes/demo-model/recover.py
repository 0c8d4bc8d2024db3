"""Rebuild torch checkpoints in --work from an exported model folder, so one stage can be retrained
without rerunning the others (the checkpoints of the original run are not kept in the repository).

    /usr/bin/python3 assets/recipes/demo-model/recover.py assets/models/sd3-demo /tmp/demo-train-new

How: each torch module is exported again with every parameter element set to a unique integer tag
((param number + 1) * 2^17 + element index, exact in float32). The fresh graph has the same initializers
as the committed one (same code, same exporter), possibly transposed or sliced by constant folding;
the tags in each fresh initializer say which parameter element every committed value belongs to.
Every parameter element must be found, else the script stops."""
import io
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export  # noqa: E402
import models  # noqa: E402
import train  # noqa: E402

TAG = 1 << 17


def initializers(model_proto):
    out = {i.name: numpy_helper.to_array(i) for i in model_proto.graph.initializer}
    # constant folding can also leave weights as Constant nodes
    for n in model_proto.graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    out["const:" + n.output[0]] = numpy_helper.to_array(a.t)
    return out


def recover(module, args, onnx_path, axes):
    """Load the weights of onnx_path into module (whose structure produced that file with these
    dynamic axes, as in export.py: {input or output name: {dim: label}})."""
    names = [n for n, _ in module.named_parameters()]
    params = dict(module.named_parameters())
    with torch.no_grad():
        for k, n in enumerate(names):
            p = params[n]
            p.copy_(((k + 1) * TAG + torch.arange(p.numel(), dtype=torch.float64)).reshape(p.shape).float())
    buf = io.BytesIO()
    old_model = onnx.load(onnx_path)
    torch.onnx.export(module, args, buf, opset_version=14, do_constant_folding=True,
                      input_names=[i.name for i in old_model.graph.input],
                      output_names=[o.name for o in old_model.graph.output], dynamic_axes=axes)
    fresh = initializers(onnx.load_from_string(buf.getvalue()))
    old = initializers(old_model)
    found = {n: np.full(params[n].numel(), np.nan, np.float32) for n in names}
    for name, t in fresh.items():
        if t.dtype != np.float32 or t.size == 0:
            continue
        t64 = t.astype(np.float64)
        k = np.floor(t64 / TAG) - 1
        idx = t64 - (k + 1) * TAG
        if not (np.all(k >= 0) and np.all(k == k.flat[0]) and np.all(idx == np.round(idx))
                and int(k.flat[0]) < len(names)):
            continue  # a computed constant (positions, masks), not a parameter
        n = names[int(k.flat[0])]
        if idx.max() >= params[n].numel():
            continue
        if name not in old or old[name].shape != t.shape:
            raise SystemExit(f"{onnx_path}: initializer {name} {t.shape} missing or reshaped in the old file")
        found[n][idx.astype(np.int64).ravel()] = old[name].ravel()
    with torch.no_grad():
        for n in names:
            if np.isnan(found[n]).any():
                raise SystemExit(f"{onnx_path}: parameter {n} not fully found")
            params[n].copy_(torch.from_numpy(found[n]).reshape(params[n].shape))
    return module


def dynamic_axes(onnx_path):
    """The dynamic axes of an exported file, read back from its symbolic dimensions."""
    m = onnx.load(onnx_path)
    out = {}
    for v in list(m.graph.input) + list(m.graph.output):
        dims = {i: d.dim_param for i, d in enumerate(v.type.tensor_type.shape.dim) if d.dim_param}
        if dims:
            out[v.name] = dims
    return out


def load(module, args, onnx_path):
    return recover(module, args, onnx_path, dynamic_axes(onnx_path))


def main():
    src, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    torch.set_num_threads(2)
    models.FAST = False
    (cl, cg, t5), tk = train.build_encoders()
    ids = torch.tensor([tk[0]("a large red circle in the center on a blue background"), tk[0]("")])
    load(export.ClipWrap(cl), (ids,), os.path.join(src, "text_encoder", "model.onnx"))
    load(export.ClipWrap(cg), (ids,), os.path.join(src, "text_encoder_2", "model.onnx"))
    tid = torch.tensor([tk[2]("a large red circle in the center on a blue background", 256)] * 2)
    load(t5, (tid,), os.path.join(src, "text_encoder_3", "model.onnx"))
    torch.save({"clip_l": cl.state_dict(), "clip_g": cg.state_dict(), "t5": t5.state_dict()},
               os.path.join(work, "text.pt"))

    enc, dec, ref = models.VAEEncoder(), models.VAEDecoder(), models.Refiner()
    img = torch.rand(2, 3, 64, 64) * 2 - 1
    load(export.VaeEncWrap(enc), (img,), os.path.join(src, "vae_encoder", "model.onnx"))
    load(models.RefinedDecoder(dec, ref), (torch.randn(2, 16, 8, 8),),
            os.path.join(src, "vae_decoder", "model.onnx"))
    cfg = json.load(open(os.path.join(src, "vae_decoder", "config.json")))
    torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "shift": cfg["shift_factor"],
                "scaling": cfg["scaling_factor"]}, os.path.join(work, "vae.pt"))
    torch.save(ref.state_dict(), os.path.join(work, "vae_refiner.pt"))

    tdec, tenc = models.TinyDecoder(), models.TinyEncoder()
    load(tdec, (torch.randn(2, 16, 8, 8),), os.path.join(src, "taesd3", "vae_decoder", "model.onnx"))
    load(tenc, (img,), os.path.join(src, "taesd3", "vae_encoder", "model.onnx"))
    torch.save({"dec": tdec.state_dict(), "enc": tenc.state_dict()}, os.path.join(work, "taesd.pt"))

    tr = train.build_transformer()
    J = train.J
    args = (torch.randn(2, 16, 8, 8), torch.randn(2, 77 + 256, J), torch.randn(2, train.POOLED),
            torch.tensor([1000.0, 500.0]))
    load(tr, args, os.path.join(src, "transformer", "model.onnx"))
    torch.save(tr.state_dict(), os.path.join(work, "transformer_ema.pt"))
    models.FAST = True
    print("recovered", src, "->", work)


if __name__ == "__main__":
    main()
