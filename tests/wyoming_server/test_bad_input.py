"""Bad input on the Wyoming port: each mistake is answered with Wyoming's `error` event
(a `text` saying what was wrong, a `code`), then the connection closes; nothing is
queued, and the server and its other clients carry on."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from asgiref.sync import sync_to_async
from wyoming.event import Event, async_write_event
from wyoming.info import Describe
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStop, SynthesizeVoice

from synthesis.models import SynthesisJob
from tests.wyoming_server.conftest import closed, until

MIB = 1048576


async def raw(wyoming, *chunks: bytes, eof: bool = False) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:  # type: ignore[no-untyped-def]
    reader, writer = await asyncio.open_connection("127.0.0.1", wyoming.port)
    for chunk in chunks:
        writer.write(chunk)
    if eof:
        writer.write_eof()
    await writer.drain()
    return reader, writer


async def refusal_of(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> dict:
    """The error event (its header and data), then the end of the connection. (The
    writer is held until then: a writer collected as garbage closes its connection.)"""
    reader, _writer = connection
    header = json.loads(await asyncio.wait_for(reader.readline(), 10))
    assert header["type"] == "error", header
    data = json.loads(await reader.readexactly(header["data_length"])) if header.get("data_length") else {}
    assert await asyncio.wait_for(reader.read(), 10) == b""  # closed
    assert data["text"] and data["code"]
    return data


async def still_serving(wyoming) -> None:  # type: ignore[no-untyped-def]
    async with wyoming.client() as client:
        await client.write_event(Describe().event())
        assert (await until(client, "info")).types == ["info"]


def header(kind: str, **fields: object) -> bytes:
    return json.dumps({"type": kind, **fields}).encode() + b"\n"


async def test_a_header_line_that_is_not_json(wyoming):
    error = await refusal_of(await raw(wyoming, b"this is not json\n"))
    assert error["code"] == "invalid_event" and "not JSON" in error["text"]
    await still_serving(wyoming)


async def test_a_header_without_a_type_and_a_header_line_too_long(wyoming):
    assert (await refusal_of(await raw(wyoming, b'{"data": {}}\n')))["code"] == "invalid_event"
    error = await refusal_of(await raw(wyoming, b"{" + b" " * 70_000 + b"\n"))
    assert "64 KiB" in error["text"]
    await still_serving(wyoming)


async def test_an_unknown_event_type(wyoming):
    error = await refusal_of(await raw(wyoming, header("transcribe")))
    assert error["code"] == "unknown_event" and "'transcribe'" in error["text"]
    await still_serving(wyoming)


@pytest.mark.parametrize("field", ["data_length", "payload_length"])
async def test_a_length_beyond_the_cap_is_refused_before_reading_it(wyoming, field):
    error = await refusal_of(await raw(wyoming, header("synthesize", **{field: 50 * MIB})))
    assert error["code"] == "event_too_large" and "1 MiB" in error["text"] and field in error["text"]
    await still_serving(wyoming)


async def test_lengths_that_lie(wyoming):
    # Longer than what comes: the connection ends before the promised bytes.
    error = await refusal_of(await raw(wyoming, header("synthesize", data_length=500), b'{"text": "hi"}', eof=True))
    assert error["code"] == "invalid_event" and "500" in error["text"]
    # Shorter than what comes: the data is cut inside its JSON.
    data = json.dumps({"text": "Hello there."}).encode()
    error = await refusal_of(await raw(wyoming, header("synthesize", data_length=5), data))
    assert error["code"] == "invalid_event" and "not JSON" in error["text"]
    # Not a count at all.
    error = await refusal_of(await raw(wyoming, header("synthesize", data_length="lots")))
    assert error["code"] == "invalid_event"
    await still_serving(wyoming)


async def test_a_client_that_stops_inside_an_event_is_not_waited_for(wyoming, settings):
    settings.WYOMING_CLIENT_TIMEOUT = 0.5
    error = await refusal_of(await raw(wyoming, header("synthesize", data_length=100), b'{"text": '))
    assert "WYOMING_CLIENT_TIMEOUT" in error["text"]


async def test_a_synthesize_without_text_or_with_too_much(wyoming, settings):
    settings.MAX_TEXT_LENGTH = 50
    for text, code in (("", "empty_text"), ("   ", "empty_text"), ("word " * 40, "validation_error")):
        async with wyoming.client() as client:
            await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(name="joe")).event())
            error = (await until(client, "audio-stop")).error
            assert error is not None and error["code"] == code, error
            assert await closed(client)
    assert "at most 100" in error["text"] and "50 spoken" in error["text"]
    async with wyoming.client() as client:  # no text field at all
        await client.write_event(Event(type="synthesize", data={"voice": {"name": "joe"}}))
        assert (await until(client, "audio-stop")).error["code"] == "invalid_event"
    assert await sync_to_async(SynthesisJob.objects.count)() == 0
    await still_serving(wyoming)


async def test_text_with_a_nul_character(wyoming):
    async with wyoming.client() as client:
        await client.write_event(Synthesize(text="Hello\x00there.").event())
        error = (await until(client, "audio-stop")).error
    assert error["code"] == "invalid_event" and "NUL" in error["text"]


async def test_a_voice_that_does_not_exist_is_named(wyoming):
    async with wyoming.client() as client:
        await client.write_event(Synthesize(text="Hello.", voice=SynthesizeVoice(name="Nobody")).event())
        error = (await until(client, "audio-stop")).error
        assert await closed(client)
    assert error["code"] == "voice_not_found" and "'Nobody'" in error["text"] and "joe" in error["text"]


@pytest.mark.parametrize("kind", ["synthesize-chunk", "synthesize-stop"])
async def test_stream_events_before_synthesize_start(wyoming, kind):
    event = SynthesizeChunk(text="Hello.").event() if kind == "synthesize-chunk" else SynthesizeStop().event()
    async with wyoming.client() as client:
        await client.write_event(event)
        error = (await until(client, "synthesize-stopped")).error
        assert await closed(client)
    assert error["code"] == "invalid_order" and "synthesize-start" in error["text"]
    await still_serving(wyoming)


async def test_five_hundred_connections_are_refused_beyond_the_cap(start_wyoming, owner, make_key):
    running = await start_wyoming(await sync_to_async(make_key)(owner), max_connections=8)
    held = [await asyncio.open_connection("127.0.0.1", running.port) for _ in range(8)]
    refused = 0
    for _ in range(62):  # 500 opens in all, in batches of 8 (held) + 62 x 8
        batch = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", running.port) for _ in range(8)))
        for reader, writer in batch:
            error = await refusal_of((reader, writer))
            refused += error["code"] == "too_many_connections"
            writer.close()
    assert refused == 496
    assert running.server.connections == 8
    for _, writer in held:
        writer.close()
    deadline = time.monotonic() + 5
    while running.server.connections and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await still_serving(running)


async def test_a_client_that_never_reads_is_dropped_and_its_job_cancelled(wyoming, owner, settings):
    settings.WYOMING_CLIENT_TIMEOUT = 1.0
    reader, writer = await asyncio.open_connection("127.0.0.1", wyoming.port)
    text = " ".join(f"Sentence {n} of a reply this client will never read." for n in range(30))
    await async_write_event(Synthesize(text=text, voice=SynthesizeVoice(name="joe")).event(), writer)
    # Small kernel buffers on both ends, so that the stall shows after kilobytes rather
    # than the megabytes loopback buffers grow to; past them the server holds at most
    # its transport's high-water mark and one chunk.
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    while not wyoming.server.handlers:
        await asyncio.sleep(0.01)
    (handler,) = wyoming.server.handlers
    handler.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    deadline = time.monotonic() + 60
    job = None
    while time.monotonic() < deadline:
        job = await sync_to_async(SynthesisJob.objects.filter(owner=owner).first)()
        if job is not None and job.status == "cancelled" and wyoming.server.connections == 0:
            break
        assert handler.writer.transport.get_write_buffer_size() < 128 * 1024
        await asyncio.sleep(0.1)
    assert job is not None and job.status == "cancelled"
    assert wyoming.server.connections == 0
    writer.close()
    await still_serving(wyoming)
