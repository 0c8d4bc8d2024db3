"""ONNX graph surgery for the full-size recipe, with the onnx package only:

- `finalize` writes a torch export as Optimum does at scale: `model.onnx` (graph only) + `model.onnx_data`
  (every initializer, 4 KiB aligned), streaming one tensor at a time, optionally
- replicating transformer layers: a layer exported once at full width is repeated N more times in the
  graph, each copy with fresh seeded random initializers (same mean/std as the exported layer), so a
  4.7 B T5 never has to exist in memory, and
- converting to float16 (weights, inputs, outputs, casts, constants), except nodes under given scopes
  that a real fp16 export also computes in float32 (the timestep sinusoid).
"""
import os
import re
import zlib
from collections import defaultdict

import numpy as np
import onnx
import onnx.mapping
from onnx import TensorProto, helper, numpy_helper

ALIGN = 4096


def _tensor_bytes(init, src_dir):
    if init.data_location == TensorProto.EXTERNAL:
        info = {e.key: e.value for e in init.external_data}
        with open(os.path.join(src_dir, info["location"]), "rb") as f:
            f.seek(int(info.get("offset", 0)))
            n = int(info["length"]) if "length" in info else -1
            return f.read(n)
    if init.raw_data:
        return init.raw_data
    return numpy_helper.to_array(init).tobytes()


def _np_dtype(t):
    return onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[t]


class _Layer:
    """The nodes of one exported layer (node names under a scope such as `/block.2/`)."""

    def __init__(self, graph, prefix):
        self.prefix = prefix
        self.nodes = [n for n in graph.node if n.name.startswith(prefix)]
        if not self.nodes:
            raise ValueError(f"no nodes under {prefix}")
        self.produced = {o for n in self.nodes for o in n.output if o}
        consumed = [i for n in self.nodes for i in n.input if i]
        self.external = [i for i in dict.fromkeys(consumed) if i not in self.produced]


def _relname(node, prefix):
    return node.name[len(prefix):]


def replicate(model, src_dir, prefix, copies, fresh):
    """Repeat the layer under `prefix` `copies` more times right after itself. The previous layer (same
    scope with index - 1) must have the same structure: its outputs tell which inputs of the layer are the
    carried streams (paired with the layer's own outputs by producer node name); other inputs are shared.
    Initializers used only by the layer are copied as fresh random tensors, recorded in `fresh`."""
    g = model.graph
    m = re.match(r"^(.*\.)(\d+)/$", prefix)
    prev_prefix = f"{m.group(1)}{int(m.group(2)) - 1}/"
    layer = _Layer(g, prefix)
    prev = _Layer(g, prev_prefix)
    producer = {o: n for n in g.node for o in n.output}
    inits = {i.name: i for i in g.initializer}
    consumers = defaultdict(list)
    for n in g.node:
        for i in n.input:
            consumers[i].append(n)
    own_nodes = {id(n) for n in layer.nodes}
    own_inits = [i for i in layer.external if i in inits and inits[i].data_type == TensorProto.FLOAT
                 and all(id(c) in own_nodes for c in consumers[i])]
    # carried streams: inputs produced by the previous layer, paired with our output of the same producer
    out_by_rel = {(_relname(producer[o], prefix), list(producer[o].output).index(o)): o
                  for o in layer.produced}
    graph_outputs = [o.name for o in g.output]
    used_outside = {o for o in layer.produced
                    if o in graph_outputs or any(id(c) not in own_nodes for c in consumers[o])}
    carried = {}
    for i in layer.external:
        p = producer.get(i)
        if p is not None and p.name.startswith(prev_prefix):
            out = out_by_rel.get((_relname(p, prev_prefix), list(p.output).index(i)))
            if out in used_outside:
                carried[i] = out
            # else: a value the exporter computed once in the previous layer and shares (CSE), e.g. silu(temb)
    if not carried:
        raise ValueError(f"{prefix}: no carried inputs found")
    stream_out = set(carried.values())
    for o in layer.produced:
        outside = [c for c in consumers[o] if id(c) not in own_nodes]
        if (outside or o in graph_outputs) and o not in stream_out:
            raise ValueError(f"{prefix}: output {o} is used outside but is not a carried stream")

    new_nodes, new_inits, new_outputs = [], [], []
    current = {i: o for i, o in carried.items()}  # carried input name -> tensor feeding the next copy
    for j in range(1, copies + 1):
        tag = f"__r{j}"
        rename = {t: t + tag for t in layer.produced}
        for i in own_inits:
            rename[i] = i + tag
        for i, src in current.items():
            rename[i] = src
        for n in layer.nodes:
            c = onnx.NodeProto()
            c.CopyFrom(n)
            c.name = n.name.replace(prefix, f"{prefix[:-1]}{tag}/", 1)
            for k, t in enumerate(c.input):
                c.input[k] = rename.get(t, t)
            for k, t in enumerate(c.output):
                c.output[k] = rename.get(t, t)
            new_nodes.append(c)
        for i in own_inits:
            t = onnx.TensorProto()
            t.CopyFrom(inits[i])
            t.name = i + tag
            del t.external_data[:]
            t.ClearField("raw_data")
            t.data_location = TensorProto.DEFAULT
            new_inits.append(t)
            fresh[t.name] = i
        current = {i: rename[o] for i, o in carried.items()}
        new_outputs.append({o: rename[o] for o in stream_out if o in graph_outputs})

    last = {o: current[i] for i, o in carried.items()}
    copy_ids = {id(n) for n in new_nodes}
    for n in g.node:
        if id(n) in own_nodes or id(n) in copy_ids:
            continue
        for k, t in enumerate(n.input):
            if t in last:
                n.input[k] = last[t]
    at = max(k for k, n in enumerate(g.node) if id(n) in own_nodes) + 1
    nodes = list(g.node)
    nodes[at:at] = new_nodes
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(new_inits)
    # streams that are graph outputs (CLIP hidden_states.k): every copy's output becomes one too
    outs = list(g.output)
    for o in list(graph_outputs):
        if o in stream_out:
            pos = [x.name for x in outs].index(o)
            vi = outs[pos]
            extra = []
            for d in new_outputs:
                e = onnx.ValueInfoProto()
                e.CopyFrom(vi)
                e.name = d[o]
                extra.append(e)
            outs[pos + 1:pos + 1] = extra
    del g.output[:]
    g.output.extend(outs)


def renumber_outputs(model, stem):
    """Name the graph outputs `stem.0`, `stem.1`, ... in their order (after replication)."""
    g = model.graph
    names = [o.name for o in g.output if o.name == stem or re.fullmatch(re.escape(stem) + r"(\.\d+|.*__r\d+)", o.name)]
    final = {old: f"{stem}.{k}" for k, old in enumerate(names)}
    tmp = {old: f"__tmp_{k}" for k, old in enumerate(names)}
    for mapping in (tmp, {tmp[o]: final[o] for o in names}):
        for n in g.node:
            for k, t in enumerate(n.input):
                n.input[k] = mapping.get(t, t)
            for k, t in enumerate(n.output):
                n.output[k] = mapping.get(t, t)
        for o in g.output:
            o.name = mapping.get(o.name, o.name)


def to_fp16(model, keep_fp32_scopes=()):
    """Everything float becomes float16, except the nodes under `keep_fp32_scopes`, which get casts at
    their borders (like `.float()` / `.to(dtype)` in a real fp16 export)."""
    g = model.graph
    inferred = onnx.shape_inference.infer_shapes(model)
    ftype = {}
    for v in list(inferred.graph.value_info) + list(g.input) + list(g.output):
        ftype[v.name] = v.type.tensor_type.elem_type
    for i in g.initializer:
        ftype[i.name] = i.data_type
    consumers = defaultdict(list)
    for n in g.node:
        for k, i in enumerate(n.input):
            consumers[i].append((n, k))

    def float_only_param(t):  # Resize roi/scales must stay float32
        return consumers[t] and all(c.op_type == "Resize" and k in (1, 2) for c, k in consumers[t])

    keep = [n for n in g.node if any(n.name.startswith(s) for s in keep_fp32_scopes)
            or (n.op_type == "Constant" and float_only_param(n.output[0]))]
    keep_ids = {id(n) for n in keep}
    kept_out = {o for n in keep for o in n.output}
    f32 = TensorProto.FLOAT
    f16 = TensorProto.FLOAT16

    def convert_tensor_attr(t):
        if t.data_type == f32:
            arr = numpy_helper.to_array(t).astype(np.float16)
            t.CopyFrom(numpy_helper.from_array(arr, t.name))

    for n in g.node:
        if id(n) in keep_ids:
            continue
        for a in n.attribute:
            if n.op_type == "Cast" and a.name == "to" and a.i == f32:
                a.i = f16
            if a.type == onnx.AttributeProto.TENSOR:
                convert_tensor_attr(a.t)
    for v in list(g.input) + list(g.output):
        if v.type.tensor_type.elem_type == f32:
            v.type.tensor_type.elem_type = f16
    del g.value_info[:]
    keep_inits = set()
    for i in g.initializer:
        if i.data_type == f32 and (all(id(c) in keep_ids for c, _ in consumers[i.name]) or float_only_param(i.name)):
            keep_inits.add(i.name)
    new_nodes = []
    for n in g.node:
        if id(n) in keep_ids:
            for k, t in enumerate(n.input):
                if t and ftype.get(t) == f32 and t not in kept_out and t not in keep_inits:
                    c = t + "__f32"
                    new_nodes.append(helper.make_node("Cast", [t], [c], name=t + "/CastF32", to=f32))
                    n.input[k] = c
        else:
            for k, t in enumerate(n.input):
                if t in kept_out and ftype.get(t) == f32 and not (n.op_type == "Resize" and k in (1, 2)):
                    c = t + "__f16"
                    new_nodes.append(helper.make_node("Cast", [t], [c], name=t + "/CastF16", to=f16))
                    n.input[k] = c
        new_nodes.append(n)
    del g.node[:]
    g.node.extend(_dedupe_casts(new_nodes))
    return keep_inits


def _dedupe_casts(nodes):
    seen, out = set(), []
    for n in nodes:
        if n.op_type == "Cast" and n.name.endswith(("/CastF32", "/CastF16")):
            if n.output[0] in seen:
                continue
            seen.add(n.output[0])
        out.append(n)
    return _toposort(out)


def _toposort(nodes):
    produced_by = {o: k for k, n in enumerate(nodes) for o in n.output}
    deps = [{produced_by[i] for i in n.input if i in produced_by} for n in nodes]
    done, order = set(), []
    pending = list(range(len(nodes)))
    while pending:
        rest = []
        for k in pending:
            if deps[k] <= done:
                order.append(k)
                done.add(k)
            else:
                rest.append(k)
        if len(rest) == len(pending):
            raise ValueError("graph has a cycle")
        pending = rest
    return [nodes[k] for k in order]


def finalize(src, out_dir, seed, replicas=(), fp16=False, keep_fp32_scopes=(), stem_outputs=None, log=print):
    """Read the export `src` (graph without loading weights), edit it, and write out_dir/model.onnx +
    model.onnx_data. Returns the number of weight elements written."""
    src_dir = os.path.dirname(os.path.abspath(src))
    model = onnx.load(src, load_external_data=False)
    fresh = {}
    for prefix, copies in replicas:
        replicate(model, src_dir, prefix, copies, fresh)
    if stem_outputs:
        renumber_outputs(model, stem_outputs)
    if len(model.graph.node) != len(_toposort(list(model.graph.node))):
        raise ValueError("lost nodes")
    keep_inits = to_fp16(model, keep_fp32_scopes) if fp16 else set()
    os.makedirs(out_dir, exist_ok=True)
    data_path = os.path.join(out_dir, "model.onnx_data")
    src_inits = {i.name: i for i in model.graph.initializer if i.name not in fresh}
    stats = {}
    for base_name in set(fresh.values()):  # before the loop below points the originals at the new file
        base = src_inits[base_name]
        a = np.frombuffer(_tensor_bytes(base, src_dir), dtype=_np_dtype(base.data_type))
        stats[base_name] = (float(a.mean()), float(a.std()))
    elements = 0
    with open(data_path, "wb") as f:
        for init in model.graph.initializer:
            if init.name in fresh:
                mean, std = stats[fresh[init.name]]
                rng = np.random.default_rng([seed, zlib.crc32(init.name.encode())])
                shape = tuple(init.dims)
                arr = (rng.standard_normal(shape, dtype=np.float32) * std + mean).astype(_np_dtype(init.data_type))
            else:
                arr = np.frombuffer(_tensor_bytes(init, src_dir), dtype=_np_dtype(init.data_type))
            if fp16 and init.data_type == TensorProto.FLOAT and init.name not in keep_inits:
                arr = arr.astype(np.float16)
                init.data_type = TensorProto.FLOAT16
            raw = np.ascontiguousarray(arr).tobytes()
            elements += arr.size
            del init.external_data[:]
            for fld in ("float_data", "int64_data", "int32_data", "double_data"):
                init.ClearField(fld)
            if len(raw) < 1024:  # small tensors stay in the graph, as onnx's size_threshold does
                init.data_location = TensorProto.DEFAULT
                init.raw_data = raw
                continue
            pad = (-f.tell()) % ALIGN
            f.write(b"\0" * pad)
            offset = f.tell()
            f.write(raw)
            init.ClearField("raw_data")
            init.data_location = TensorProto.EXTERNAL
            for k, v in (("location", "model.onnx_data"), ("offset", str(offset)), ("length", str(len(raw)))):
                e = init.external_data.add()
                e.key, e.value = k, v
    onnx.save(model, os.path.join(out_dir, "model.onnx"))
    onnx.checker.check_model(os.path.join(out_dir, "model.onnx"))
    log(f"  wrote {out_dir}: {len(model.graph.node)} nodes, {elements / 1e6:.1f} M elements, "
        f"{os.path.getsize(data_path) / 2**30:.2f} GiB data")
    return elements
