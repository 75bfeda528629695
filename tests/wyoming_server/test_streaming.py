"""Streaming synthesis as Home Assistant (2025.7+) sends it: `synthesize-start`, the
text in pieces as the LLM writes it, the compatibility `synthesize`, `synthesize-stop`.
Each sentence is spoken as soon as it is complete (audio-start, chunks, audio-stop),
before the rest of the text has arrived; `synthesize-stopped` ends the stream."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeVoice

from synthesis.models import SynthesisJob
from tests.wyoming_server.conftest import until


async def test_a_text_stream_is_spoken_sentence_by_sentence_as_it_arrives(wyoming, owner):
    async with wyoming.client() as client:
        await client.write_event(SynthesizeStart(voice=SynthesizeVoice(name="joe")).event())
        for piece in ("The first sen", "tence is here. And the", " second"):
            await client.write_event(SynthesizeChunk(text=piece).event())
        # The first sentence is spoken while the second is still being written.
        first = await until(client, "audio-stop")
        assert first.types[0] == "audio-start" and first.types[-1] == "audio-stop" and first.audio
        await client.write_event(SynthesizeChunk(text=" one comes later. A third").event())
        # Home Assistant also sends the whole text as a plain synthesize: ignored here.
        await client.write_event(Synthesize(text="The whole text again.", voice=SynthesizeVoice(name="joe")).event())
        await client.write_event(SynthesizeStop().event())
        rest = await until(client, "synthesize-stopped")
    assert rest.types.count("audio-start") == rest.types.count("audio-stop") == 2, rest.types
    assert rest.types[-1] == "synthesize-stopped" and "error" not in rest.types
    texts = await sync_to_async(list)(
        SynthesisJob.objects.filter(owner=owner).order_by("queued_at").values_list("text", flat=True)
    )
    assert [t.strip() for t in texts] == ["The first sentence is here.", "And the second one comes later.", "A third"]


async def test_a_connection_takes_one_stream_after_another(wyoming):
    async with wyoming.client() as client:
        for word in ("One.", "Two."):
            await client.write_event(SynthesizeStart().event())
            await client.write_event(SynthesizeChunk(text=word).event())
            await client.write_event(SynthesizeStop().event())
            heard = await until(client, "synthesize-stopped")
            assert heard.types[0] == "audio-start" and heard.types[-1] == "synthesize-stopped" and heard.audio
