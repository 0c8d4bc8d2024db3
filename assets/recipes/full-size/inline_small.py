#!/usr/bin/python3
"""Lays a model written by build.py out as Optimum writes real exports: every component whose weights
fit in one protobuf file (under 2 GB) becomes a single model.onnx with its weights inline; larger ones
(T5-XXL, the MMDiT) keep their external data and are linked, not copied. Tokenizers, scheduler and
model_index.json are linked too.

    /usr/bin/python3 assets/recipes/full-size/inline_small.py SRC DST

Needs python3-onnx. Peak memory is about the largest inlined component (CLIP-G fp16: 1.4 GB).
"""
import os
import shutil
import sys

import onnx

PROTOBUF_LIMIT = 2 * 1024 ** 3 - 64 * 1024 ** 2  # leave room for the graph itself


def component_size(folder):
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)
               if f.startswith("model.onnx"))


def main(src, dst):
    src, dst = os.path.abspath(src), os.path.abspath(dst)
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        source = os.path.join(src, name)
        target = os.path.join(dst, name)
        model = os.path.join(source, "model.onnx")
        if os.path.lexists(target):
            continue
        if not os.path.isfile(model) or component_size(source) >= PROTOBUF_LIMIT:
            os.symlink(source, target)
            print(f"{name}: linked")
            continue
        os.makedirs(target)
        for f in os.listdir(source):
            if not f.startswith("model.onnx"):
                shutil.copy(os.path.join(source, f), target)
        onnx.save(onnx.load(model), os.path.join(target, "model.onnx"))  # loads the external data
        print(f"{name}: inline, {os.path.getsize(os.path.join(target, 'model.onnx')) / 1024 ** 2:.0f} MiB")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
