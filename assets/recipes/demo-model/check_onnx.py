"""Check the exported graphs: onnx.checker, opset, float32, and input/output names, ranks and symbolic
axes against a reference Optimum-layout model folder (e.g. the tiny-sd3 conformance fixture).
Usage: check_onnx.py MODEL_DIR [REFERENCE_DIR]"""
import os
import sys

import onnx

PARTS = ["text_encoder", "text_encoder_2", "text_encoder_3", "transformer", "vae_encoder", "vae_decoder",
         "taesd3/vae_encoder", "taesd3/vae_decoder"]


def io(path):
    m = onnx.load(path)
    onnx.checker.check_model(m)

    def desc(v):
        return (v.name, v.type.tensor_type.elem_type,
                [d.dim_param if d.dim_param else "static" for d in v.type.tensor_type.shape.dim])
    ops = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
    return [desc(v) for v in m.graph.input], [desc(v) for v in m.graph.output], ops


def main():
    model = sys.argv[1]
    ref = sys.argv[2] if len(sys.argv) > 2 else None
    bad = 0
    for p in PARTS:
        f = os.path.join(model, p, "model.onnx")
        ins, outs, ops = io(f)
        print(f"{p}: opset {ops} inputs {ins} outputs {[o[0] for o in outs]}")
        if ref:
            rp = p.replace("taesd3/", "../tiny-taesd3/") if p.startswith("taesd3/") else p
            rf = os.path.normpath(os.path.join(ref, rp, "model.onnx"))
            rins, routs, _ = io(rf)
            for mine, theirs in ((ins, rins), (outs, routs)):
                if [(n, t, len(s)) for n, t, s in mine] != [(n, t, len(s)) for n, t, s in theirs]:
                    bad += 1
                    print("  MISMATCH names/types/ranks", mine, theirs)
                for (n, _, s), (_, _, s2) in zip(mine, theirs):
                    dyn = [a != "static" for a in s]
                    rdyn = [a != "static" for a in s2]
                    if dyn != rdyn:
                        print(f"  note: dynamic axes of {n} differ: {s} vs reference {s2}")
    print("mismatches:", bad)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
