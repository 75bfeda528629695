"""One segment at a time per loaded model, turns shared fairly.

coqui-tts keeps the running prompt on the model object, so two generations that
overlap on one loaded XTTS model speak with each other's prompt. The engine gives a
generation the model for one segment (a turn) and hands the next turn to the next in
line (docs/ARCHITECTURE.md, "Fair scheduling"); these tests show the hazard on the bare
model and prove that interleaved callers are isolated from each other: their audio is
exactly their audio alone, seeded sampling included.
"""

from __future__ import annotations

import os
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
from tests.together import run_together

JOIN_TIMEOUT = 120.0


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


def assert_turns_never_overlap(stats: list[GenerationStats]) -> None:
    turns = sorted(turn for s in stats for turn in s.turns)
    for (_, end), (next_start, _) in zip(turns, turns[1:], strict=False):
        assert next_start >= end


def interleaved(stats: list[GenerationStats]) -> bool:
    """Some generation's turns have another generation's turn between them."""
    marks = sorted((start, index) for index, s in enumerate(stats) for start, _ in s.turns)
    owners = [index for _, index in marks]
    return any(owners[i] != owners[i + 1] and owners[i] in owners[i + 2 :] for i in range(len(owners) - 2))


def test_concurrent_requests_get_exactly_the_audio_they_get_alone(
    xtts_engine: XTTSEngine, cloned_voice: bytes, other_cloned_voice: bytes
) -> None:
    params = TINY_XTTS_PARAMS  # greedy, fixed seed, 8 audio tokens a sentence
    requests = [
        ("Short one. Then a second sentence.", VoiceRef(conditioning=cloned_voice)),
        (
            "A noticeably longer sentence for the second request. With more words. And a third part.",
            VoiceRef(conditioning=other_cloned_voice),
        ),
        ("Third request. Two sentences.", VoiceRef(builtin="Tiny Bob")),
        ("(happy) Fourth! (sad) Still fourth.", VoiceRef(conditioning=cloned_voice)),
    ]

    def synthesize(request: tuple[str, VoiceRef]) -> tuple[np.ndarray, GenerationStats]:
        text, voice = request
        with xtts_engine.synthesize(text, language="en", voice=voice, params=params) as stream:
            audio = np.concatenate(list(stream))
        return audio, stream.stats

    alone = [synthesize(request) for request in requests]
    together = run_together(requests, synthesize)

    for (audio, _), (expected, _) in zip(together, alone, strict=False):
        assert np.array_equal(audio, expected)
    stats = [s for _, s in together]
    # One segment at a time on the model, one turn per segment (a segment is one chunk
    # here), plus at most the last wait, which may find the generation over...
    assert_turns_never_overlap(stats)
    for s in stats:
        assert s.segments >= 2
        assert s.segments <= len(s.turns) <= s.segments + 1
    # ...and the generations really were interleaved, not run one after another.
    assert interleaved(stats)
    # Loose sanity bound (shared CI cores are noisy): a request's own generation is not
    # several requests' worth of work.
    for (_, mine), (_, solo) in zip(together, alone, strict=False):
        assert mine.compute_seconds < 3 * solo.compute_seconds + 1.0


SeededRequest = tuple[str, VoiceRef, SynthesisParams]


def seeded_requests(texts: list[str], seeds: tuple[int, ...], cloned: bytes, other: bytes) -> list[SeededRequest]:
    """Sampled (not greedy) requests, each with its own seed, in three voices: two
    cloned, one studio."""
    voices = [VoiceRef(conditioning=cloned), VoiceRef(conditioning=other), VoiceRef(builtin="Tiny Alice")]
    return [
        (
            text,
            voice,
            SynthesisParams(do_sample=True, temperature=1.0, top_k=50, top_p=1.0, seed=seed, max_new_tokens=8),
        )
        for text, voice, seed in zip(texts, voices, seeds, strict=False)
    ]


def speak_chunks(engine: XTTSEngine, request: SeededRequest) -> tuple[list[np.ndarray], GenerationStats]:
    text, voice, params = request
    with engine.synthesize(text, language="en", voice=voice, params=params) as stream:
        chunks = list(stream)
    return chunks, stream.stats


def test_seeded_sampling_interleaved_with_others_is_the_audio_it_gets_alone(
    xtts_engine: XTTSEngine, cloned_voice: bytes, other_cloned_voice: bytes
) -> None:
    """Sampling draws from torch's global generator, which every generation on the
    model shares: a seeded generation keeps its own generator state between turns."""
    texts = [
        "First voice, first part. Second part. Third part.",
        "Another speaker here. And again. Once more.",
        "A third one. Its second sentence. Its last.",
    ]
    requests = seeded_requests(texts, (11, 12, 13), cloned_voice, other_cloned_voice)

    def synthesize(request: SeededRequest) -> tuple[np.ndarray, GenerationStats]:
        chunks, stats = speak_chunks(xtts_engine, request)
        return np.concatenate(chunks), stats

    alone = [synthesize(request) for request in requests]
    assert not np.array_equal(
        alone[0][0], synthesize((requests[0][0], requests[0][1], requests[1][2]))[0]
    )  # seeds matter
    together = run_together(requests, synthesize)
    assert interleaved([s for _, s in together])
    for (audio, _), (expected, _) in zip(together, alone, strict=False):
        assert np.array_equal(audio, expected)


def test_a_second_request_speaks_at_the_first_ones_next_segment_boundary(
    xtts_engine: XTTSEngine, cloned_voice: bytes
) -> None:
    voice = VoiceRef(conditioning=cloned_voice)
    results: list[GenerationStats] = []

    def second() -> None:
        with xtts_engine.synthesize("Second.", language="en", voice=voice, params=TINY_XTTS_PARAMS) as stream:
            list(stream)
        results.append(stream.stats)

    first = xtts_engine.synthesize("First. Still first.", language="en", voice=voice, params=TINY_XTTS_PARAMS)
    next(first)  # the first stream now holds the model, suspended inside its first segment
    thread = threading.Thread(target=second)
    thread.start()
    wait_until(lambda: xtts_engine.scheduler.waiting() == 1)  # the second is in line
    assert not results  # not interleaved inside a segment
    list(first)  # at the boundary the second takes its turn; the first goes on after it
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive()
    second_turn = results[0].turns[0]  # (a later one may only find it finished)
    first_turn, next_turn = first.stats.turns[:2]
    assert first_turn[1] <= second_turn[0] and second_turn[1] <= next_turn[0]


@pytest.fixture(scope="module")
def chunky_xtts(tiny_xtts_dir: Any) -> XTTSEngine:
    """The tiny checkpoint speaking in chunks of 2 audio tokens: 4 chunks a segment at
    TINY_XTTS_PARAMS' 8 tokens (the production default is 20 tokens a chunk)."""
    engine = XTTSEngine(model_dir=tiny_xtts_dir, device="cpu", threads=1, stream_chunk_size=2)
    engine.load()
    return engine


def test_while_others_wait_a_turn_is_one_chunk_and_seeded_audio_is_still_its_audio_alone(
    chunky_xtts: XTTSEngine, cloned_voice: bytes, other_cloned_voice: bytes
) -> None:
    """A turn may end between two chunks of a segment: the running prompt coqui keeps
    on the model (`cached_prefix_emb`) and the seeded random generator are kept per
    generation between turns."""
    texts = [
        "A first voice speaks its first sentence. And a second one.",
        "Another speaker, another text entirely. Its end.",
        "The third, with a studio voice. Two sentences.",
    ]
    requests = seeded_requests(texts, (21, 22, 23), cloned_voice, other_cloned_voice)

    def synthesize(request: SeededRequest) -> tuple[list[np.ndarray], GenerationStats]:
        return speak_chunks(chunky_xtts, request)

    alone = [synthesize(request) for request in requests]
    for chunks, stats in alone:
        assert len(stats.turns) == stats.segments  # nobody waiting: a turn per segment
        assert len(chunks) >= stats.segments * 3  # several chunks a segment
    together = run_together(requests, synthesize)
    stats = [s for _, s in together]
    assert_turns_never_overlap(stats)
    assert interleaved(stats)
    assert any(len(s.turns) > s.segments + 1 for s in stats)  # turns ended inside segments
    for (chunks, _), (expected, _) in zip(together, alone, strict=False):
        assert np.array_equal(np.concatenate(chunks), np.concatenate(expected))


def test_a_second_request_speaks_at_the_first_ones_next_chunk(chunky_xtts: XTTSEngine, cloned_voice: bytes) -> None:
    voice = VoiceRef(conditioning=cloned_voice)
    results: list[GenerationStats] = []

    def second() -> None:
        with chunky_xtts.synthesize("Second.", language="en", voice=voice, params=TINY_XTTS_PARAMS) as stream:
            list(stream)
        results.append(stream.stats)

    first = chunky_xtts.synthesize("First, one segment.", language="en", voice=voice, params=TINY_XTTS_PARAMS)
    next(first)  # the first stream holds the model, suspended after its first chunk
    thread = threading.Thread(target=second)
    thread.start()
    wait_until(lambda: chunky_xtts.scheduler.waiting() == 1)  # the second is in line
    list(first)  # its next chunk; then the second takes a turn, inside the first's one segment
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive()
    assert first.stats.segments == 1
    first_turn, *later_turns = first.stats.turns
    second_turn = results[0].turns[0]
    assert later_turns  # the model changed hands inside the first's one segment
    assert first_turn[1] <= second_turn[0] and second_turn[1] <= later_turns[0][0]


def wait_until(condition: Any, timeout: float = 30.0) -> None:
    """Poll for a state another thread reaches (bounded), instead of sleeping for it."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.01)


def test_closing_a_stream_early_frees_the_model(xtts_engine: XTTSEngine, cloned_voice: bytes) -> None:
    voice = VoiceRef(conditioning=cloned_voice)
    with xtts_engine.synthesize("One. Two. Three.", language="en", voice=voice, params=TINY_XTTS_PARAMS) as stream:
        next(stream)  # inside the first segment, holding the turn
    assert not stream.stats.finished
    assert xtts_engine.scheduler.holder is None and xtts_engine.scheduler.waiting() == 0
    done = run_together(
        ["after"], lambda _: xtts_engine.synthesize_all("After.", language="en", voice=voice, params=TINY_XTTS_PARAMS)
    )
    assert done[0].size > 0
    assert xtts_engine.last_wait_seconds is not None and xtts_engine.last_wait_seconds < 0.5


def test_closing_a_stream_between_two_segments_gives_up_its_place_in_line(
    xtts_engine: XTTSEngine, cloned_voice: bytes
) -> None:
    voice = VoiceRef(conditioning=cloned_voice)
    with xtts_engine.synthesize("One. Two. Three.", language="en", voice=voice, params=TINY_XTTS_PARAMS) as stream:
        silence = np.zeros(int(round(TINY_XTTS_PARAMS.sentence_silence * xtts_engine.sample_rate)), dtype=np.float32)
        while not np.array_equal(next(stream), silence):
            pass  # the first segment's audio, up to the silence handed out between turns
        assert len(stream.stats.turns) == 1
    assert xtts_engine.scheduler.holder is None and xtts_engine.scheduler.waiting() == 0


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
    texts = [
        "The first caller says this. Then that. And one more thing.",
        "A second caller, longer, says something else entirely. Twice over. With a third sentence.",
        "Third. Fourth. Fifth. Sixth.",
    ]

    def speak(text: str) -> tuple[np.ndarray, GenerationStats]:
        with piper_engine.synthesize(text, language="en", params=params) as stream:
            audio = np.concatenate(list(stream))
        return audio, stream.stats

    alone = [speak(t) for t in texts]
    together = run_together(texts, speak)
    for (audio, _), (expected, _) in zip(together, alone, strict=False):
        assert np.array_equal(audio, expected)
    stats = [s for _, s in together]
    assert_turns_never_overlap(stats)
    assert interleaved(stats)


def test_piper_turns_side_by_side_share_the_cores_and_sound_as_alone() -> None:
    engine = PiperEngine()
    engine.scheduler.slots = 2  # what ENGINE_PARALLEL_TURNS gives on two cores (set before loading)
    engine.load()
    session = engine._voice(engine.default_voice).session
    assert session.get_session_options().intra_op_num_threads == max(1, (os.cpu_count() or 1) // 2)
    params = SynthesisParams(variability=0.0)
    texts = [f"Caller {n} speaks first. Then a second sentence. And a third one for good measure." for n in range(4)]

    def speak(text: str) -> tuple[np.ndarray, GenerationStats]:
        with engine.synthesize(text, language="en", params=params) as stream:
            audio = np.concatenate(list(stream))
        return audio, stream.stats

    alone = [speak(t) for t in texts]
    together = run_together(texts, speak)
    for (audio, _), (expected, _) in zip(together, alone, strict=False):
        assert np.array_equal(audio, expected)
    turns = sorted(turn for _, s in together for turn in s.turns)
    assert any(later_start < end for (_, end), (later_start, _) in zip(turns, turns[1:], strict=False))  # two at once


def test_a_newcomer_s_first_piper_piece_comes_before_the_rest_of_a_sentence_heard() -> None:
    """Piper's first sentence comes in pieces, a turn each while someone waits: a request
    that arrives while another's first sentence is being spoken hears its own first piece
    before that sentence's rest (bench/wyoming.py's clients at once)."""
    engine = PiperEngine()  # one turn at a time: the order below is exact
    engine.load()
    rate = engine.sample_rate
    hop = int(engine._voice(engine.default_voice).config.hop_length)
    requeued: list[tuple[int, float | None]] = []
    requeue = engine.scheduler.requeue

    def observed_requeue(ticket: Any) -> None:  # what the engine says of its listener
        requeued.append((id(ticket), ticket.due))
        requeue(ticket)

    engine.scheduler.requeue = observed_requeue  # type: ignore[method-assign]
    params = SynthesisParams(variability=0.0)
    results: list[GenerationStats] = []

    def second() -> None:
        with engine.synthesize("Second.", language="en", params=params) as stream:
            list(stream)
        results.append(stream.stats)

    text = "A first caller says one long sentence, with enough words for all three of its pieces."
    first = engine.synthesize(text, language="en", params=params)
    early = next(first)  # the first piece; the stream holds the model, nobody waiting
    assert len(early) == 32 * hop
    thread = threading.Thread(target=second)
    thread.start()
    wait_until(lambda: engine.scheduler.waiting() == 1)  # the second is in line
    rest = list(first)  # the next piece; then the second's turn; then the rest
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive()
    assert [len(c) for c in rest[:2]] == [64 * hop, 128 * hop] and len(rest) == 3
    first_turn, later_turn, *_ = first.stats.turns
    second_turn = results[0].turns[0]
    assert first_turn[1] <= second_turn[0] and second_turn[1] <= later_turn[0]
    # The first stream queued again with its listener's audio: two pieces, heard from
    # its first chunk on.
    (_, due), *_ = requeued
    heard_from = first.stats.requested_at + first.stats.first_chunk_seconds
    assert due == pytest.approx(heard_from + (32 + 64) * hop / rate)
