"""Synthesis parameters: every one accepted in range, typed errors outside it."""

from __future__ import annotations

import pytest

from speech.engines import InvalidParams, SynthesisParams

GOOD = {
    "speed": 1.5,
    "temperature": 0.3,
    "top_p": 0.5,
    "top_k": 10,
    "repetition_penalty": 2.0,
    "length_penalty": -1.0,
    "seed": 42,
    "do_sample": False,
    "variability": 0.3,
    "sentence_silence": 0.5,
    "emotion": "happy",
    "max_new_tokens": 16,
}

BAD = [
    ("speed", 0),
    ("speed", 4.5),
    ("speed", "fast"),
    ("speed", float("nan")),
    ("temperature", 10),
    ("temperature", 0),
    ("top_p", 0),
    ("top_p", 1.01),
    ("top_k", 0),
    ("top_k", 201),
    ("top_k", 2.5),
    ("repetition_penalty", 0.5),
    ("repetition_penalty", 51),
    ("length_penalty", 11),
    ("seed", -1),
    ("seed", "abc"),
    ("do_sample", "yes"),
    ("do_sample", 1),
    ("variability", -0.1),
    ("variability", 2.1),
    ("sentence_silence", 6),
    ("emotion", "ecstatic"),
    ("emotion", 3),
    ("max_new_tokens", 0),
    ("speed", True),
]


def test_the_defaults_are_xtts_and_piper_defaults() -> None:
    p = SynthesisParams()
    assert (p.speed, p.temperature, p.top_p, p.top_k) == (1.0, 0.75, 0.85, 50)
    assert (p.repetition_penalty, p.length_penalty, p.do_sample, p.seed) == (10.0, 1.0, True, None)
    assert (p.variability, p.sentence_silence, p.emotion, p.max_new_tokens) == (0.667, 0.2, None, None)


def test_every_parameter_is_accepted_in_range_and_round_trips() -> None:
    p = SynthesisParams.from_dict(GOOD)
    assert p.to_dict() == GOOD
    assert SynthesisParams.from_dict(p.to_dict()) == p


def test_every_parameter_has_a_test_value() -> None:
    assert set(GOOD) == set(SynthesisParams.field_names())


@pytest.mark.parametrize(("field", "value"), BAD)
def test_out_of_range_or_mistyped_values_are_rejected_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidParams) as err:
        SynthesisParams.from_dict({field: value})
    assert err.value.field == field
    assert err.value.code == "invalid_params"


@pytest.mark.parametrize(("field", "value"), [("speed", 0), ("temperature", 10), ("top_k", 0)])
def test_direct_construction_validates_too(field: str, value: object) -> None:
    with pytest.raises(InvalidParams) as err:
        SynthesisParams(**{field: value})  # type: ignore[arg-type]
    assert err.value.field == field


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(InvalidParams) as err:
        SynthesisParams.from_dict({"pitch": 2})
    assert err.value.field == "pitch"


def test_optional_values_may_be_null() -> None:
    p = SynthesisParams.from_dict({"seed": None, "emotion": None, "max_new_tokens": None})
    assert p == SynthesisParams()


@pytest.mark.parametrize("field", ["top_k", "seed", "max_new_tokens"])
def test_integers_are_integers_a_whole_float_is_refused(field: str) -> None:
    with pytest.raises(InvalidParams) as err:
        SynthesisParams.from_dict({field: 20.0})
    assert err.value.field == field
    assert "integer" in str(err.value)
    with pytest.raises(InvalidParams):
        SynthesisParams(**{field: 20.0})  # type: ignore[arg-type]


def test_emotion_is_case_insensitive() -> None:
    assert SynthesisParams.from_dict({"emotion": "Sad"}).emotion == "sad"


def test_params_are_immutable() -> None:
    with pytest.raises(AttributeError):
        SynthesisParams().speed = 2.0  # type: ignore[misc]


def test_an_error_has_the_shared_error_body_shape() -> None:
    with pytest.raises(InvalidParams) as err:
        SynthesisParams.from_dict({"speed": 0})
    body = err.value.to_dict()
    assert body["code"] == "invalid_params"
    assert body["details"] == {"field": "speed"}
    assert "speed" in body["message"]
