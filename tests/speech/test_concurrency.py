"""One generation at a time per loaded model.

coqui-tts keeps the running prompt on the model object, so two generations that
overlap on one loaded XTTS model speak with each other's prompt. The engine holds a
lock for a whole generation; these tests show the hazard on the bare model and
prove that the engine's callers are isolated from each other.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
import torch

from speech.engines import EngineBusy, GenerationStats, SynthesisParams, VoiceRef
from speech.engines.piper_engine import PiperEngine
from speech.engines.xtts_engine import XTTSEngine
from tests.conftest_engines import TINY_XTTS_PARAMS

JOIN_TIMEOUT = 120.0


def run_together(jobs: list[Any], work: Any) -> list[Any]:
    """Start one thread per job at the same moment; return their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def target(index: int, job: Any) -> None:
        try:
            barrier.wait()
            results[index] = work(job)
        except BaseException as exc:  # surfaced below, with the thread's traceback
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a generation never finished"
    if errors:
        raise errors[0]
    return results


def test_the_bare_coqui_model_mixes_up_interleaved_generations(xtts_engine: XTTSEngine) -> None:
    """Why the engine locks: two streams stepped alternately on one model object,
    no threads needed, both come out wrong (or crash)."""
    model = xtts_engine.model
    speakers = model.speaker_manager.speakers
    alice, bob = speakers["Tiny Alice"], speakers["Tiny Bob"]
    options = {"do_sample": False, "max_new_tokens": 8, "stream_chunk_size": 4}
    long_text, short_text = "a longer sentence for the first voice, with more words.", "short one."

    def stream(text: str, voice: dict[str, torch.Tensor]) -> Any:
        return model.inference_stream(text, "en", voice["gpt_cond_latent"], voice["speaker_embedding"], **options)

    alone_a = torch.cat(list(stream(long_text, alice))).numpy()
    alone_b = torch.cat(list(stream(short_text, bob))).numpy()
    a, b = stream(long_text, alice), stream(short_text, bob)
    chunks_a: list[torch.Tensor] = []
    chunks_b: list[torch.Tensor] = []
    try:
        pending = {id(a): (a, chunks_a), id(b): (b, chunks_b)}
        while pending:
            for key, (gen, out) in list(pending.items()):
                try:
                    out.append(next(gen))
                except StopIteration:
                    del pending[key]
    except (IndexError, RuntimeError):
        return  # the crash variant of the same bug
    mixed_a, mixed_b = torch.cat(chunks_a).numpy(), torch.cat(chunks_b).numpy()
    assert not (np.array_equal(mixed_a, alone_a) and np.array_equal(mixed_b, alone_b))


def test_concurrent_requests_get_exactly_the_audio_they_get_alone(
    xtts_engine: XTTSEngine, cloned_voice: bytes, other_cloned_voice: bytes
) -> None:
    params = TINY_XTTS_PARAMS  # greedy, fixed seed, 8 audio tokens a sentence
    requests = [
        ("Short one.", VoiceRef(conditioning=cloned_voice)),
        (
            "A noticeably longer sentence for the second request, with more words.",
            VoiceRef(conditioning=other_cloned_voice),
        ),
        ("Third request. Two sentences.", VoiceRef(builtin="Tiny Bob")),
        ("(happy) Fourth!", VoiceRef(conditioning=cloned_voice)),
    ]

    def synthesize(request: tuple[str, VoiceRef]) -> tuple[np.ndarray, GenerationStats]:
        text, voice = request
        with xtts_engine.synthesize(text, language="en", voice=voice, params=params) as stream:
            audio = np.concatenate(list(stream))
        return audio, stream.stats

    alone = [synthesize(request) for request in requests]
    together = run_together(requests, synthesize)

    for (audio, _), (expected, _) in zip(together, alone):
        assert np.array_equal(audio, expected)

    stats = [s for _, s in together]
    # The generations ran one after another: no two hold the model at the same time...
    spans = sorted((s.started_at, s.ended_at) for s in stats)
    for (_, end), (next_start, _) in zip(spans, spans[1:]):
        assert next_start >= end
    # ...they really were concurrent requests: someone queued behind a whole generation...
    shortest_alone = min(s.compute_seconds for _, s in alone)
    assert max(s.wait_seconds for s in stats) >= 0.5 * shortest_alone
    for s in stats:
        # ...and each request's time is its wait in line plus its own generation.
        assert s.total_seconds == pytest.approx(s.wait_seconds + (s.ended_at - s.started_at), abs=1e-3)
        assert s.total_seconds - s.wait_seconds == pytest.approx(s.compute_seconds, abs=0.25)
    # Loose sanity bound (shared CI cores are noisy): a request's own generation is not
    # several requests' worth of work.
    for (_, mine), (_, solo) in zip(together, alone):
        assert mine.compute_seconds < 3 * solo.compute_seconds + 1.0


def test_a_second_request_waits_while_a_stream_is_open(xtts_engine: XTTSEngine, cloned_voice: bytes) -> None:
    voice = VoiceRef(conditioning=cloned_voice)
    results: list[GenerationStats] = []

    def second() -> None:
        with xtts_engine.synthesize("Second.", language="en", voice=voice, params=TINY_XTTS_PARAMS) as stream:
            list(stream)
        results.append(stream.stats)

    first = xtts_engine.synthesize("First. Still first.", language="en", voice=voice, params=TINY_XTTS_PARAMS)
    next(first)  # the first stream now holds the model, suspended between chunks
    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive() and not results  # queued, not interleaved
    list(first)  # finishing the first stream releases the model
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive()
    assert results[0].wait_seconds is not None and results[0].wait_seconds >= 0.5


def test_closing_a_stream_early_frees_the_model(xtts_engine: XTTSEngine, cloned_voice: bytes) -> None:
    voice = VoiceRef(conditioning=cloned_voice)
    with xtts_engine.synthesize("One. Two. Three.", language="en", voice=voice, params=TINY_XTTS_PARAMS) as stream:
        next(stream)
    assert not stream.stats.finished
    done = run_together(
        ["after"], lambda _: xtts_engine.synthesize_all("After.", language="en", voice=voice, params=TINY_XTTS_PARAMS)
    )
    assert done[0].size > 0
    assert xtts_engine.last_wait_seconds is not None and xtts_engine.last_wait_seconds < 0.5


def test_a_failing_generation_frees_the_model(
    xtts_engine: XTTSEngine, cloned_voice: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    voice = VoiceRef(conditioning=cloned_voice)
    real = xtts_engine.model.inference_stream

    def broken(*args: Any, **kwargs: Any) -> Any:
        yield from real(*args, **kwargs)
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(xtts_engine.model, "inference_stream", broken)
    with pytest.raises(RuntimeError, match="exploded"):
        xtts_engine.synthesize_all("Boom.", language="en", voice=voice, params=TINY_XTTS_PARAMS)
    monkeypatch.setattr(xtts_engine.model, "inference_stream", real)
    assert run_together(
        ["x"], lambda _: xtts_engine.synthesize_all("Fine.", language="en", voice=voice, params=TINY_XTTS_PARAMS)
    )[0].size


def test_a_thread_cannot_deadlock_itself_with_two_open_streams(xtts_engine: XTTSEngine, cloned_voice: bytes) -> None:
    voice = VoiceRef(conditioning=cloned_voice)
    first = xtts_engine.synthesize("First.", language="en", voice=voice, params=TINY_XTTS_PARAMS)
    next(first)
    # Waiting for the lock here would wait for ourselves forever: refuse at once.
    with pytest.raises(EngineBusy):
        xtts_engine.synthesize("Second.", language="en", voice=voice, params=TINY_XTTS_PARAMS)
    first.close()
    assert xtts_engine.synthesize_all("Second.", language="en", voice=voice, params=TINY_XTTS_PARAMS).size > 0


def test_concurrent_piper_requests_get_exactly_the_audio_they_get_alone(piper_engine: PiperEngine) -> None:
    params = SynthesisParams(variability=0.0)
    texts = ["The first caller says this.", "A second caller, longer, says something else entirely.", "Third."]

    def speak(text: str) -> np.ndarray:
        return piper_engine.synthesize_all(text, language="en", params=params)

    alone = [speak(t) for t in texts]
    started = time.perf_counter()
    together = run_together(texts, speak)
    assert time.perf_counter() - started < JOIN_TIMEOUT
    for audio, expected in zip(together, alone):
        assert np.array_equal(audio, expected)
