"""Clients at once and clients that leave: 20 Home Assistant clients are all served,
each a job of its own; a client that disconnects in the middle of its audio cancels its
job at once, and the server goes on serving."""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import sync_to_async
from wyoming.info import Describe
from wyoming.tts import Synthesize, SynthesizeVoice

from synthesis.models import SynthesisJob
from tests.wyoming_server.conftest import until

LONG = " ".join(f"This is sentence number {n} of a long reply that nobody will hear to the end." for n in range(12))


async def test_twenty_clients_at_once_are_all_served(wyoming, owner):
    async def one(n: int) -> bytes:
        async with wyoming.client(read_timeout=120) as client:
            await client.write_event(Synthesize(text=f"Client {n} says hello.", voice=SynthesizeVoice("joe")).event())
            heard = await until(client, "audio-stop")
            assert heard.types[-1] == "audio-stop", heard.error
            return heard.audio

    audio = await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(20))), timeout=240)
    assert all(len(a) > 0 for a in audio)
    statuses = await sync_to_async(list)(SynthesisJob.objects.filter(owner=owner).values_list("status", flat=True))
    assert statuses == ["completed"] * 20


async def test_a_client_that_leaves_mid_audio_cancels_its_job_at_once(wyoming, owner):
    async with wyoming.client() as client:
        await client.write_event(Synthesize(text=LONG, voice=SynthesizeVoice(name="joe")).event())
        heard = await until(client, "audio-chunk")
        assert heard.types == ["audio-start", "audio-chunk"]
    left = time.monotonic()
    job = await sync_to_async(SynthesisJob.objects.get)(owner=owner)
    while job.status != "cancelled" and time.monotonic() - left < 5:
        await asyncio.sleep(0.05)
        await sync_to_async(job.refresh_from_db)()
    assert job.status == "cancelled"
    assert time.monotonic() - left < 2  # not after the rest of the text
    # The server is still there for the next client.
    async with wyoming.client() as client:
        await client.write_event(Describe().event())
        assert (await until(client, "info")).types == ["info"]
