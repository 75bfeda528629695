"""A Piper voice's decoder with its 1-D convolutions written as 2-D ones, one row high.

The decoder (HiFi-GAN: convolutions, transposed convolutions, LeakyReLU, sums) is most
of a Piper voice's work. onnxruntime runs a 2-D convolution of a graph optimised at its
default level (`ORT_ENABLE_ALL`) on its blocked-channel ("NCHWc") kernels where the CPU
has them, and a 1-D one as a matrix product over copied windows: the same decoder as
2-D convolutions over a [batch, channels, 1, frames] tensor is about 12% less CPU for
the same samples, to float rounding (up to about 2e-6 of full scale; docs/performance.md,
"Under load: Speaker beside piper's own server", the part on the decoder's convolutions
in two dimensions). Where the kernels are missing, onnxruntime runs the 2-D graph as it
ran the 1-D one.

Only a decoder built as piper builds them is rewritten: convolutions, elementwise
operations whose constants are scalars (they broadcast the same over the extra axis),
and the final `Unsqueeze` that gives piper's output its [batch, 1, 1, samples] shape,
which the 2-D graph already has. Any other graph is left as it is (`None`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

__all__ = ["decoder_in_2d"]

_CONVOLUTIONS = {"Conv", "ConvTranspose"}
# Operations that work elementwise, whatever the rank (their constants must be scalars).
_ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "LeakyRelu", "Relu", "Tanh", "Sigmoid", "Identity"}
# A 1-D convolution's attributes, as 2-D ones over a row of height 1.
_AS_2D = {
    "kernel_shape": lambda v: [1, v[0]],
    "dilations": lambda v: [1, v[0]],
    "strides": lambda v: [1, v[0]],
    "pads": lambda v: [0, v[0], 0, v[1]],
    "output_padding": lambda v: [0, v[0]],
}


def decoder_in_2d(proto: onnx.ModelProto) -> onnx.ModelProto | None:
    """A copy of the decoder `proto` (one input: [batch, channels, frames]; one output:
    [batch, 1, 1, samples]) computed with 2-D convolutions, or None where the graph is
    not one this rewrite knows to keep exact."""
    import onnx
    from onnx import helper, numpy_helper

    graph = proto.graph
    if len(graph.input) != 1 or len(graph.output) != 1:
        return None
    weights = {init.name: init for init in graph.initializer}
    source, output = graph.input[0].name, graph.output[0].name
    nodes = list(graph.node)
    last = nodes[-1] if nodes else None
    if last is None or last.op_type != "Unsqueeze" or list(last.output) != [output]:
        return None
    axes = weights.get(last.input[1]) if len(last.input) > 1 else None
    if axes is None or numpy_helper.to_array(axes).tolist() != [1]:
        return None  # not piper's [batch, 1, samples] -> [batch, 1, 1, samples]

    rewritten = onnx.ModelProto()
    rewritten.CopyFrom(proto)
    graph = rewritten.graph
    weights = {init.name: init for init in graph.initializer}
    row = "speaker_2d_row"  # the new axis, after the channels
    lifted = "speaker_2d_input"
    graph.initializer.append(numpy_helper.from_array(np.array([2], dtype=np.int64), row))
    out_nodes = [helper.make_node("Unsqueeze", [source, row], [lifted], name="speaker_2d/Unsqueeze")]
    reshaped: set[str] = set()
    for node in list(graph.node)[:-1]:
        inputs = [lifted if name == source else name for name in node.input]
        if node.op_type in _CONVOLUTIONS:
            weight = weights.get(node.input[1]) if len(node.input) > 1 else None
            if weight is None or len(weight.dims) != 3:
                return None
            if weight.name not in reshaped:
                kernel = numpy_helper.to_array(weight)
                weight.CopyFrom(numpy_helper.from_array(kernel[:, :, np.newaxis, :], weight.name))
                reshaped.add(weight.name)
            attributes = []
            for attribute in node.attribute:
                value = helper.get_attribute_value(attribute)
                if attribute.name in _AS_2D:
                    attributes.append(helper.make_attribute(attribute.name, _AS_2D[attribute.name](value)))
                elif attribute.name == "group":
                    attributes.append(attribute)
                else:  # auto_pad, output_shape...: not in piper's decoders
                    return None
            new = helper.make_node(node.op_type, inputs, list(node.output), name=node.name)
            new.attribute.extend(attributes)
        elif node.op_type in _ELEMENTWISE:
            constants = [weights[name] for name in node.input if name in weights]
            if any(int(np.prod(constant.dims)) != 1 for constant in constants):
                return None  # a constant that is not a scalar would broadcast differently
            new = helper.make_node(node.op_type, inputs, list(node.output), name=node.name)
            new.attribute.extend(node.attribute)
        else:
            return None
        out_nodes.append(new)
    # The last convolution's output is already [batch, 1, 1, samples].
    out_nodes.append(helper.make_node("Identity", [last.input[0]], [output], name=last.name))
    del graph.node[:]
    graph.node.extend(out_nodes)
    del graph.value_info[:]  # the intermediate shapes changed; onnxruntime infers them
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return rewritten
