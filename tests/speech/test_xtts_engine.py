"""XTTS v2 end to end on a tiny random checkpoint, through the production loading path.

The tiny model's audio is noise-like; these tests prove loading, cloning, conditioning
storage, parameters, streaming and errors, not voice quality.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from speech.engines import (
    ConditioningMissing,
    EngineConfig,
    EngineRegistry,
    EngineUnavailable,
    InvalidParams,
    InvalidSample,
    InvalidText,
    SynthesisParams,
    UnsupportedLanguage,
    VoiceNotSupported,
    VoiceRef,
)
from speech.engines.xtts_conditioning import Conditioning, deserialise, serialise
from speech.engines.xtts_engine import XTTS_LANGUAGES, XTTSEngine
from tests.conftest_engines import TINY_XTTS_PARAMS, ReferenceSamples, rms
from tests.tiny_xtts import GPT_CHANNELS, GPT_LAYERS, STUDIO_SPEAKERS

SEVENTEEN = ("en", "es", "fr", "de", "it", "pt", "pl", "tr", "ru", "nl", "cs", "ar", "zh-cn", "ja", "hu", "ko", "hi")


class CallSpy:
    """Wraps a model method, recording each call's arguments."""

    def __init__(self, target: Callable[..., Any]) -> None:
        self.target = target
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        return self.target(*args, **kwargs)


def spy_on(monkeypatch: pytest.MonkeyPatch, obj: object, name: str) -> CallSpy:
    spy = CallSpy(getattr(obj, name))
    monkeypatch.setattr(obj, name, spy)
    return spy


def speak(engine: XTTSEngine, voice: bytes, text: str = "Hello world.", **changes: Any) -> np.ndarray:
    return engine.synthesize_all(
        text,
        language=changes.pop("language", "en"),
        voice=VoiceRef(conditioning=voice),
        params=TINY_XTTS_PARAMS.replace(**changes),
    )


# ---------------------------------------------------------------- loading


def test_xtts_loads_the_checkpoint_folder_through_the_registry(
    engine_registry: EngineRegistry, xtts_engine: XTTSEngine
) -> None:
    [status] = [s for s in engine_registry.status() if s.name == "xtts"]
    assert status.available and status.loaded and status.reason is None
    assert status.load_seconds is not None and status.load_seconds > 0
    assert (status.clones, status.sample_rate, status.device) == (True, 24000, "cpu")
    # The tiny architecture came from config.json, the weights from model.pth.
    model = xtts_engine.model
    assert len(model.gpt.gpt.h) == GPT_LAYERS
    assert model.gpt.model_dim == GPT_CHANNELS
    assert model.gpt.gpt_inference is not None  # load_checkpoint(eval=True) prepared inference


def test_loading_twice_keeps_the_same_model(engine_registry: EngineRegistry, xtts_engine: XTTSEngine) -> None:
    model = xtts_engine.model
    assert engine_registry.get("xtts") is xtts_engine
    xtts_engine.load()
    assert xtts_engine.model is model


def test_xtts_speaks_exactly_the_17_xtts_v2_languages(xtts_engine: XTTSEngine) -> None:
    assert xtts_engine.languages == SEVENTEEN == XTTS_LANGUAGES


@pytest.mark.parametrize("language", ["sv", "xx", "english", "fi"])
def test_xtts_rejects_a_language_outside_the_17(xtts_engine: XTTSEngine, cloned_voice: bytes, language: str) -> None:
    with pytest.raises(UnsupportedLanguage) as err:
        xtts_engine.synthesize("Hej.", language=language, voice=VoiceRef(conditioning=cloned_voice))
    assert err.value.code == "unsupported_language"


@pytest.mark.parametrize("language", ["es", "ru", "ar", "ko", "hi"])
def test_xtts_speaks_other_scripts_and_languages(xtts_engine: XTTSEngine, cloned_voice: bytes, language: str) -> None:
    text = {
        "es": "Hola mundo.",
        "ru": "Привет, мир.",
        "ar": "مرحبا بالعالم.",
        "ko": "안녕하세요.",
        "hi": "नमस्ते दुनिया।",
    }[language]
    audio = speak(xtts_engine, cloned_voice, text, language=language)
    assert audio.size > 0 and np.all(np.isfinite(audio))


@pytest.mark.parametrize("language", ["zh-cn", "ja"])
def test_chinese_and_japanese_speak(xtts_engine: XTTSEngine, cloned_voice: bytes, language: str) -> None:
    # Their text front-ends (pypinyin; cutlet + fugashi + unidic-lite) are pinned in
    # requirements.txt, so both must speak here.
    text = "你好，世界。" if language == "zh-cn" else "こんにちは世界。"
    audio = speak(xtts_engine, cloned_voice, text, language=language)
    assert audio.size > 0 and np.all(np.isfinite(audio))


def test_xtts_turns_text_it_cannot_read_into_a_typed_error_before_any_audio(
    xtts_engine: XTTSEngine, cloned_voice: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate = spy_on(monkeypatch, xtts_engine.model, "inference_stream")
    # num2words cannot spell numbers in Hindi; coqui would fail mid-stream.
    with pytest.raises(InvalidText):
        xtts_engine.synthesize("मेरे पास 12 सेब हैं।", language="hi", voice=VoiceRef(conditioning=cloned_voice))
    assert generate.calls == []


# ---------------------------------------------------------------- cloning


def test_xtts_clones_a_voice_from_a_reference_wav(xtts_engine: XTTSEngine, reference_samples: ReferenceSamples) -> None:
    conditioning = xtts_engine.prepare_voice({"neutral": [reference_samples.neutral]})
    assert isinstance(conditioning, bytes) and conditioning
    audio = speak(xtts_engine, conditioning)
    assert audio.dtype == np.float32 and audio.size > 0.2 * xtts_engine.sample_rate
    assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= 1.0
    assert rms(audio) > 0


def test_different_references_give_different_voices(
    xtts_engine: XTTSEngine, cloned_voice: bytes, other_cloned_voice: bytes
) -> None:
    assert not np.array_equal(speak(xtts_engine, cloned_voice), speak(xtts_engine, other_cloned_voice))


def test_conditioning_is_plain_tensors_per_emotion_loadable_with_weights_only(cloned_voice: bytes) -> None:
    payload = torch.load(io.BytesIO(cloned_voice), weights_only=True)
    assert set(payload["voices"]) == {"neutral", "happy"}
    for entry in payload["voices"].values():
        assert entry["gpt_cond_latent"].shape == (1, 32, GPT_CHANNELS)
        assert entry["speaker_embedding"].shape == (1, 512, 1)
        assert entry["gpt_cond_latent"].dtype == torch.float32


def test_conditioning_is_computed_once_per_sample_set_never_per_request(
    xtts_engine: XTTSEngine, reference_samples: ReferenceSamples, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = xtts_engine.model
    latents = spy_on(monkeypatch, model, "get_gpt_cond_latents")
    embeddings = spy_on(monkeypatch, model, "get_speaker_embedding")
    stored = xtts_engine.prepare_voice(
        {"neutral": [reference_samples.neutral, reference_samples.other_speaker], "happy": [reference_samples.happy]}
    )
    assert (len(latents.calls), len(embeddings.calls)) == (2, 3)  # one per label, one per file
    # Stored in a database and read back: a different bytes object, same content.
    restored = bytes(bytearray(stored))
    first = speak(xtts_engine, stored, "One request.")
    for text in ("Another request.", "(happy) A happy request.", "One request."):
        speak(xtts_engine, restored, text)
    assert np.array_equal(speak(xtts_engine, restored, "One request."), first)
    assert (len(latents.calls), len(embeddings.calls)) == (2, 3)


def test_conditioning_from_another_checkpoint_is_refused(xtts_engine: XTTSEngine, cloned_voice: bytes) -> None:
    original = deserialise(cloned_voice)
    foreign = serialise(Conditioning(model_id="some-other-checkpoint", voices=original.voices))
    with pytest.raises(ConditioningMissing):
        xtts_engine.synthesize("Hi.", language="en", voice=VoiceRef(conditioning=foreign))


@pytest.mark.parametrize("blob", [b"", b"not a torch file", b"PK\x03\x04garbage"])
def test_unreadable_conditioning_asks_for_prepare_voice_again(xtts_engine: XTTSEngine, blob: bytes) -> None:
    with pytest.raises(ConditioningMissing) as err:
        xtts_engine.synthesize("Hi.", language="en", voice=VoiceRef(conditioning=blob))
    assert err.value.code == "conditioning_missing"


def test_unreadable_or_too_short_samples_are_rejected(xtts_engine: XTTSEngine, tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio")
    with pytest.raises(InvalidSample):
        xtts_engine.prepare_voice({"neutral": [junk]})
    blip = tmp_path / "blip.wav"
    from speech.audio import encode

    blip.write_bytes(encode(np.full(2205, 0.1, dtype=np.float32), 22050, "wav"))  # 0.1 s
    with pytest.raises(InvalidSample, match="too short"):
        xtts_engine.prepare_voice({"neutral": [blip]})
    with pytest.raises(InvalidSample) as err:
        xtts_engine.prepare_voice({"ecstatic": [blip]})
    assert err.value.field == "emotion"
    with pytest.raises(InvalidSample):
        xtts_engine.prepare_voice({"neutral": [tmp_path / "missing.wav"]})


# ------------------------------------------------------------ built-in voices


def test_studio_speakers_in_the_checkpoint_are_builtin_voices(xtts_engine: XTTSEngine) -> None:
    assert [v.name for v in xtts_engine.builtin_voices()] == list(STUDIO_SPEAKERS)
    bob = xtts_engine.synthesize_all(
        "Hello.", language="de", voice=VoiceRef(builtin="Tiny Bob"), params=TINY_XTTS_PARAMS
    )
    alice = xtts_engine.synthesize_all(
        "Hello.", language="de", voice=VoiceRef(builtin="Tiny Alice"), params=TINY_XTTS_PARAMS
    )
    assert bob.size > 0 and not np.array_equal(alice, bob)
    default = xtts_engine.synthesize_all("Hello.", language="de", params=TINY_XTTS_PARAMS)
    assert np.array_equal(default, alice)  # no voice named: the first studio speaker
    with pytest.raises(VoiceNotSupported):
        xtts_engine.synthesize("Hello.", language="en", voice=VoiceRef(builtin="Nobody"))


# ------------------------------------------------------- synthesis, streaming


def test_streaming_yields_finite_24khz_chunks_in_order(
    xtts_engine: XTTSEngine, cloned_voice: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "The first sentence. The second sentence."
    # 4-token stream chunks, 8 tokens a sentence: several chunks per sentence, cheaply.
    monkeypatch.setattr(xtts_engine, "stream_chunk_size", 4)
    params = TINY_XTTS_PARAMS
    with xtts_engine.synthesize(
        text, language="en", voice=VoiceRef(conditioning=cloned_voice), params=params
    ) as stream:
        first = next(stream)
        assert stream.stats.chunks == 1 and not stream.stats.finished  # the rest is not computed yet
        chunks = [first, *stream]
    assert len(chunks) >= 5  # 2 + 2 speech chunks, the silence between sentences, overlaps
    for chunk in chunks:
        assert chunk.dtype == np.float32 and chunk.ndim == 1 and chunk.size > 0
        assert np.all(np.isfinite(chunk)) and np.max(np.abs(chunk)) <= 1.0
    assert stream.stats.sample_rate == 24000 and stream.stats.finished
    whole = xtts_engine.synthesize_all(text, language="en", voice=VoiceRef(conditioning=cloned_voice), params=params)
    assert np.array_equal(np.concatenate(chunks), whole)  # same audio, same order


def test_every_parameter_reaches_the_model(
    xtts_engine: XTTSEngine, cloned_voice: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate = spy_on(monkeypatch, xtts_engine.model, "inference_stream")
    params = SynthesisParams.from_dict(
        {
            "speed": 1.25, "temperature": 0.5, "top_p": 0.7, "top_k": 20, "repetition_penalty": 3.0,
            "length_penalty": 0.5, "do_sample": True, "seed": 11, "max_new_tokens": 6, "sentence_silence": 0.0,
        }
    )  # fmt: skip
    xtts_engine.synthesize_all("Hello world.", language="fr", voice=VoiceRef(conditioning=cloned_voice), params=params)
    [(args, kwargs)] = generate.calls
    assert args[0] == "Hello world." and args[1] == "fr"
    passed = ("speed", "temperature", "top_p", "top_k", "repetition_penalty", "length_penalty", "do_sample")
    assert {k: kwargs[k] for k in (*passed, "max_new_tokens")} == {
        "speed": 1.25, "temperature": 0.5, "top_p": 0.7, "top_k": 20, "repetition_penalty": 3.0,
        "length_penalty": 0.5, "do_sample": True, "max_new_tokens": 6,
    }  # fmt: skip


def test_speed_changes_the_length_of_the_audio(xtts_engine: XTTSEngine, cloned_voice: bytes) -> None:
    normal = speak(xtts_engine, cloned_voice)
    slow = speak(xtts_engine, cloned_voice, speed=0.5)
    assert len(slow) > 1.6 * len(normal)


def test_a_fixed_seed_reproduces_sampled_speech(xtts_engine: XTTSEngine, cloned_voice: bytes) -> None:
    first = speak(xtts_engine, cloned_voice, do_sample=True, seed=3)
    again = speak(xtts_engine, cloned_voice, do_sample=True, seed=3)
    other = speak(xtts_engine, cloned_voice, do_sample=True, seed=4)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_an_emotion_uses_the_voices_own_samples_for_it_else_neutral_with_a_preset(
    xtts_engine: XTTSEngine, cloned_voice: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate = spy_on(monkeypatch, xtts_engine.model, "inference_stream")
    stored = deserialise(cloned_voice).voices
    speak(xtts_engine, cloned_voice, "(happy) So glad. (sad) So sorry. Plain words.", emotion="calm")
    happy, sad, calm = generate.calls
    # happy: the voice's happy samples, delivered as asked (no preset on top).
    assert torch.equal(happy[0][2].cpu(), stored["happy"][0])
    assert happy[1]["speed"] == 1.0 and happy[1]["temperature"] == TINY_XTTS_PARAMS.temperature
    # sad: no sad samples, so neutral samples with a slower, flatter preset.
    assert torch.equal(sad[0][2].cpu(), stored["neutral"][0])
    assert sad[1]["speed"] < 1.0 and sad[1]["temperature"] < TINY_XTTS_PARAMS.temperature
    # The tag holds until the next tag; the request's emotion applies only before the first.
    assert torch.equal(calm[0][2].cpu(), stored["neutral"][0]) and calm[1]["speed"] < 1.0
    assert sad[1]["speed"] == calm[1]["speed"]


def test_the_request_emotion_applies_to_untagged_text(
    xtts_engine: XTTSEngine, cloned_voice: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate = spy_on(monkeypatch, xtts_engine.model, "inference_stream")
    speak(xtts_engine, cloned_voice, "No tag here.", emotion="happy")
    [(args, _)] = generate.calls
    assert torch.equal(args[2].cpu(), deserialise(cloned_voice).voices["happy"][0])


# ------------------------------------------------------------ typed errors


@pytest.mark.parametrize(
    ("text", "language", "params", "error"),
    [
        ("", "en", {}, InvalidText),
        ("   ", "en", {}, InvalidText),
        ("(happy) (sad)", "en", {}, InvalidText),
        ("Hello.", "sv", {}, UnsupportedLanguage),
        ("Hello.", "", {}, UnsupportedLanguage),
    ],
)
def test_bad_requests_fail_with_typed_errors_before_any_audio(
    xtts_engine: XTTSEngine,
    cloned_voice: bytes,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    language: str,
    params: dict[str, Any],
    error: type[Exception],
) -> None:
    generate = spy_on(monkeypatch, xtts_engine.model, "inference_stream")
    with pytest.raises(error):
        xtts_engine.synthesize(text, language=language, voice=VoiceRef(conditioning=cloned_voice))
    assert generate.calls == []


@pytest.mark.parametrize(("field", "value"), [("speed", 0), ("temperature", 10)])
def test_out_of_range_params_are_typed_errors(field: str, value: float) -> None:
    with pytest.raises(InvalidParams) as err:
        SynthesisParams.from_dict({field: value})
    assert err.value.field == field


# ---------------------------------------------------------- availability


def test_without_weights_xtts_is_unavailable_with_a_reason(tmp_path: Path) -> None:
    registry = EngineRegistry(EngineConfig(enabled=["piper", "xtts"]))
    [xtts] = [s for s in registry.status() if s.name == "xtts"]
    assert not xtts.available and "XTTS_MODEL_DIR" in (xtts.reason or "")
    with pytest.raises(EngineUnavailable, match="XTTS_MODEL_DIR"):
        registry.get("xtts")
    (tmp_path / "config.json").write_text("{}")
    partial = EngineRegistry(EngineConfig(enabled=["xtts"], xtts_model_dir=tmp_path))
    assert "model.pth" in (partial.reason("xtts") or "") and "vocab.json" in (partial.reason("xtts") or "")
    assert registry.cloning_engine() is None


def test_a_broken_checkpoint_is_reported_once_and_remembered(
    tmp_path: Path, tiny_xtts_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("config.json", "vocab.json"):
        (tmp_path / name).write_bytes((tiny_xtts_dir / name).read_bytes())
    (tmp_path / "model.pth").write_bytes(b"truncated download")
    registry = EngineRegistry(EngineConfig(enabled=["xtts"], xtts_model_dir=tmp_path, xtts_device="cpu"))
    engine = registry.engine("xtts")
    loads = spy_on(monkeypatch, engine, "_load")
    with pytest.raises(EngineUnavailable, match="failed to load"):
        registry.get("xtts")
    with pytest.raises(EngineUnavailable, match="failed to load"):
        registry.get("xtts")
    assert len(loads.calls) == 1
    [status] = registry.status()
    assert not status.available and "failed to load" in (status.reason or "")


def test_validating_a_request_does_not_load_the_model_weights(tiny_xtts_dir: Path, cloned_voice: bytes) -> None:
    # A web process validates requests; only the worker should hold the model.
    engine = EngineRegistry(EngineConfig(enabled=["xtts"], xtts_model_dir=tiny_xtts_dir)).engine("xtts")
    job = engine.plan("Hello there. (happy) Bye.", language="en", voice=VoiceRef(conditioning=cloned_voice))
    assert [s.emotion for s in job.segments] == ["neutral", "happy"]
    engine.plan("Hi.", language="en", voice=VoiceRef(builtin="Tiny Alice"))
    with pytest.raises(InvalidText):
        engine.plan("मेरे पास 12 सेब हैं।", language="hi", voice=VoiceRef(conditioning=cloned_voice))
    with pytest.raises(VoiceNotSupported):
        engine.plan("Hi.", language="en", voice=VoiceRef(builtin="Nobody"))
    assert not engine.is_loaded


class FakeModelManager:
    """Stands in for coqui's ModelManager (no internet here): records the consent
    coqui checks and hands out the tiny checkpoint as if it had downloaded it."""

    checkpoint: Path
    prefix: Path
    consented: list[bool] = []

    def __init__(self, progress_bar: bool = False) -> None:
        self.output_prefix = self.prefix

    def download_model(self, name: str) -> tuple[Path, Path, dict[str, Any]]:
        assert name == "tts_models/multilingual/multi-dataset/xtts_v2"
        consent = self.prefix / "tts_models--multilingual--multi-dataset--xtts_v2" / "tos_agreed.txt"
        type(self).consented.append(consent.is_file())  # coqui would prompt on stdin without it
        return self.checkpoint / "model.pth", self.checkpoint / "config.json", {}


def test_with_consent_and_no_folder_xtts_is_fetched_once_through_coqui(
    tiny_xtts_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import TTS.utils.manage

    import speech.engines.xtts_engine as xtts_module

    monkeypatch.setattr(xtts_module, "_cached_checkpoint", lambda: None)
    monkeypatch.setattr(FakeModelManager, "checkpoint", tiny_xtts_dir, raising=False)
    monkeypatch.setattr(FakeModelManager, "prefix", tmp_path, raising=False)
    monkeypatch.setattr(FakeModelManager, "consented", [])
    monkeypatch.setattr(TTS.utils.manage, "ModelManager", FakeModelManager)
    registry = EngineRegistry(EngineConfig(enabled=["xtts"], coqui_tos_agreed=True, xtts_device="cpu"))
    [before] = registry.status()
    assert before.available and "not downloaded yet" in (before.note or "")
    engine = registry.get("xtts")
    registry.get("xtts")
    assert FakeModelManager.consented == [True]
    assert engine.synthesize_all("Hi.", language="en", voice=VoiceRef(builtin="Tiny Bob"), params=TINY_XTTS_PARAMS).size


def test_a_failed_fetch_makes_xtts_unavailable_with_the_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import TTS.utils.manage

    class OfflineManager(FakeModelManager):
        prefix = tmp_path

        def download_model(self, name: str) -> tuple[Path, Path, dict[str, Any]]:
            raise ConnectionError("no route to host")

    monkeypatch.setattr(TTS.utils.manage, "ModelManager", OfflineManager)
    registry = EngineRegistry(EngineConfig(enabled=["xtts"], coqui_tos_agreed=True, xtts_device="cpu"))
    with pytest.raises(EngineUnavailable, match="no route to host"):
        registry.get("xtts")
    [status] = registry.status()
    assert not status.available and "could not fetch xtts_v2" in (status.reason or "")


def test_xtts_stream_reports_progress_by_sentence_not_by_chunk(xtts_engine: XTTSEngine, cloned_voice: bytes) -> None:
    reports: list[tuple[int, int]] = []
    chunks_before_report: list[int] = []
    chunks = 0

    def on_progress(spoken: int, total: int) -> None:
        reports.append((spoken, total))
        chunks_before_report.append(chunks)

    with xtts_engine.synthesize(
        "First sentence here. Second one there. Third and last.",
        language="en",
        voice=VoiceRef(conditioning=cloned_voice),
        params=TINY_XTTS_PARAMS,
        on_progress=on_progress,
    ) as stream:
        for _ in stream:
            chunks += 1
    assert chunks > 3  # several chunks per sentence...
    assert reports == [(1, 3), (2, 3), (3, 3)]  # ...one report per sentence
    # Each report comes before its sentence's first chunk (the first before any audio).
    assert chunks_before_report[0] == 0 and chunks_before_report == sorted(set(chunks_before_report))
