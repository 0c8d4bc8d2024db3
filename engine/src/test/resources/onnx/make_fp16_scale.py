"""Recipe for fp16_scale.onnx: a float16 model (input `latent_sample` [B,C,H,W] float16, output
`sample` = 2·x + 1 in float16) that tests the engine's fp32<->fp16 conversion at the model
boundary. Run with Debian's python3-onnx: /usr/bin/python3 make_fp16_scale.py"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

x = helper.make_tensor_value_info("latent_sample", TensorProto.FLOAT16, ["batch", "channels", "height", "width"])
y = helper.make_tensor_value_info("sample", TensorProto.FLOAT16, ["batch", "channels", "height", "width"])
two = numpy_helper.from_array(np.array(2.0, dtype=np.float16), "two")
one = numpy_helper.from_array(np.array(1.0, dtype=np.float16), "one")
graph = helper.make_graph(
    [helper.make_node("Mul", ["latent_sample", "two"], ["doubled"]),
     helper.make_node("Add", ["doubled", "one"], ["sample"])],
    "fp16_scale", [x], [y], initializer=[two, one])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="sd3studio-tests")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "fp16_scale.onnx")
