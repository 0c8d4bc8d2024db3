"""Recipe for clip_without_hidden_states.onnx: a toy CLIP-shaped text encoder (input `input_ids`
int64 [B, S]; outputs `text_embeds` [B, 4] and `last_hidden_state` [B, S, 4], no per-layer
`hidden_states.N`) like exports made without output_hidden_states. Tests the engine's fallback.
Run with Debian's python3-onnx: /usr/bin/python3 make_clip_without_hidden_states.py"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

vocab, width = 64, 4
table = (np.arange(vocab * width, dtype=np.float32).reshape(vocab, width) % 7) / 7
ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"])
hidden = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch_size", "sequence_length", width])
pooled = helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch_size", width])
graph = helper.make_graph(
    [helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"]),
     helper.make_node("ReduceMean", ["last_hidden_state"], ["text_embeds"], axes=[1], keepdims=0)],
    "clip_without_hidden_states", [ids], [pooled, hidden],
    initializer=[numpy_helper.from_array(table, "table")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="sd3studio-tests")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "clip_without_hidden_states.onnx")
