"""synthesis.stream_service.timed_stream: a stream job's encoded audio with its word
timings, per chunk or one piece per segment (what the ElevenLabs-style streamed
alignment needs), run in this process as the embedded default does."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from speech import audio
from speech.encoders import IncrementalEncoder
from speech.timings import spoken_words
from synthesis.services import JobRequest
from synthesis.stream_service import stream_job_create, timed_stream
from synthesis.stream_transport import limiter

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]

TEXT = "One piece per sentence. Its words come with it."


@pytest.fixture
def embedded(settings):  # type: ignore[no-untyped-def]
    settings.EMBEDDED_WORKER = True


async def start(owner) -> object:  # type: ignore[no-untyped-def]
    req = JobRequest(text=TEXT, voice="joe", language="en", output_format="pcm", params={"variability": 0})
    return await sync_to_async(stream_job_create)(user=owner, req=req, api_key=None)


def pcm_encoder(rate: int) -> IncrementalEncoder:
    return IncrementalEncoder("pcm", rate)


async def test_per_segment_pieces_carry_a_sentence_of_audio_with_its_words(embedded, owner):
    job = await start(owner)
    pieces = [piece async for piece in timed_stream(job, pcm_encoder, per_segment=True)]
    timed = [p for p in pieces if p.words]
    assert len(timed) == 2  # one per sentence
    assert [w.text for w in timed[0].words] == spoken_words("One piece per sentence.")
    assert all(p.method == "exact" for p in timed)
    seconds = 0.0
    for piece in pieces:
        assert piece.error is None
        seconds += len(audio.from_s16le(piece.audio)) / 22050
        # Every word of a piece is inside the audio sent up to and with it.
        assert all(w.end <= seconds + 1e-3 for w in piece.words)
    assert timed[1].words[0].start > len(audio.from_s16le(timed[0].audio)) / 22050
    assert limiter.active == 0  # the concurrency slot is given back


async def test_by_default_audio_goes_out_as_it_is_made_and_words_follow(embedded, owner):
    job = await start(owner)
    pieces = [piece async for piece in timed_stream(job, pcm_encoder)]
    assert all(not (p.audio and p.words) for p in pieces)  # audio pieces and word pieces apart
    words = [w.text for p in pieces for w in p.words]
    assert words == spoken_words(TEXT)
    first_words = next(i for i, p in enumerate(pieces) if p.words)
    assert any(p.audio for p in pieces[:first_words])  # sound first, its words after
