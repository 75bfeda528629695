"""ElevenLabs' text-to-speech websockets refuse bad input the way ElevenLabs does: an
error message (`message`, `error`, `code`), then a close with that code and a reason;
the server and the other sockets carry on. Driven in-process through the project's own
routing (speaker_site.routing); the live tests speak (test_tts_websockets_live.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.core.asgi import get_asgi_application
from django.utils import timezone

from accounts.models import APIKey
from accounts.services import apikey_revoke
from speaker_site.routing import build_application
from synthesis.models import SynthesisJob
from voices.models import Voice

pytestmark = pytest.mark.django_db(transaction=True)

JOE = "joe"  # a built-in voice, by name


_SOCKETS: list[WebsocketCommunicator] = []  # opened by the running test


@pytest.fixture
async def app(piper_only):  # type: ignore[no-untyped-def]
    # Each test runs on an event loop of its own, while the channel layer is one object per
    # process: with Redis, its connection pools and receive lock stay bound to the loop
    # that first used them. A fresh layer per test, as daphne's one loop per process has.
    channel_layers.backends.clear()
    yield build_application(get_asgi_application(), embedded_worker=False)
    # Leave as a client leaves, while the test's loop still runs: each consumer is told of
    # the disconnect and ends its channel-layer receive itself, as under daphne, rather
    # than being cancelled by the loop's shutdown.
    sockets, _SOCKETS[:] = list(_SOCKETS), []
    for socket in sockets:
        if not socket.future.done():
            await socket.disconnect(timeout=5)
    channel_layers.backends.clear()


async def opened(app: Any, path: str, key: str | None = None) -> WebsocketCommunicator:
    headers = [(b"xi-api-key", key.encode())] if key else []
    socket = WebsocketCommunicator(app, path, headers=headers)
    _SOCKETS.append(socket)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def refusal(socket: WebsocketCommunicator, timeout: float = 3) -> tuple[dict[str, Any], int]:
    """The error message, then the close code (which the error names too)."""
    error = await socket.receive_json_from(timeout=timeout)
    closed = await socket.receive_output(timeout=timeout)
    assert closed["type"] == "websocket.close" and closed["code"] == error["code"], (error, closed)
    assert set(error) >= {"message", "error", "code"} and error["message"]
    return error, closed["code"]


def multi(voice: str = JOE, query: str = "") -> str:
    return f"/v1/text-to-speech/{voice}/multi-stream-input{query}"


def single(voice: str = JOE, query: str = "") -> str:
    return f"/v1/text-to-speech/{voice}/stream-input{query}"


async def test_a_socket_without_a_key_is_told_how_to_send_one(app):
    socket = await opened(app, single())
    await socket.send_json_to({"text": " "})
    error, code = await refusal(socket)
    assert error["error"] == "needs_authorization" and "xi-api-key" in error["message"] and code == 4401


async def test_a_key_in_the_first_message_opens_the_socket(app, owner, make_key):
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, multi())
    await socket.send_json_to({"text": " ", "context_id": "a", "authorization": f"Bearer {key}"})
    await socket.send_json_to({"context_id": "nope", "close_context": True})
    error, _ = await refusal(socket)
    assert error["error"] == "invalid_context_id" and error["contextId"] == "nope"  # authenticated: it got that far


async def test_a_key_in_the_url_is_refused(app, owner, make_key):
    key = await sync_to_async(make_key)(owner)
    error, _ = await refusal(await opened(app, single(query=f"?xi_api_key={key}")))
    assert error["error"] == "invalid_api_key" and "URL" in error["message"]


async def test_a_wrong_key_and_a_key_without_synthesis_scope_are_refused(app, owner, make_key):
    error, code = await refusal(await opened(app, single(), key="sk-not-a-key"))
    assert error["error"] == "invalid_api_key" and code == 4401
    reader = await sync_to_async(make_key)(owner, ["voices:read"])
    error, code = await refusal(await opened(app, single(), key=reader))
    assert error["error"] == "missing_permissions" and "synthesis:write" in error["message"] and code == 4403


async def test_another_users_voice_gets_the_answer_of_a_missing_voice(app, owner, outsider, make_key):
    theirs = await sync_to_async(Voice.objects.create)(
        owner=owner, name="Olivia", language="en", engine="piper", status="ready"
    )
    key = await sync_to_async(make_key)(outsider)
    foreign, _ = await refusal(await opened(app, multi(str(theirs.pk)), key=key))
    missing, _ = await refusal(await opened(app, multi("6f1c1e0e-0000-4000-8000-000000000000"), key=key))
    assert foreign["error"] == missing["error"] == "voice_not_found"
    assert foreign["message"].replace(str(theirs.pk), "X") == missing["message"].replace(
        "6f1c1e0e-0000-4000-8000-000000000000", "X"
    )


async def test_malformed_json_closes_that_socket_only(app, owner, make_key):
    key = await sync_to_async(make_key)(owner)
    other = await opened(app, multi(), key=key)
    await other.send_json_to({"text": " ", "context_id": "a"})
    broken = await opened(app, multi(), key=key)
    await broken.send_to(text_data="{not json")
    error, code = await refusal(broken)
    assert error["error"] == "invalid_message" and code == 4007
    # The other socket is still served: it answers its next message.
    await other.send_json_to({"context_id": "b", "flush": True})
    error, _ = await refusal(other)
    assert error["error"] == "invalid_context_id"


async def test_a_binary_frame_is_refused(app, owner, make_key):
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, single(), key=key)
    await socket.send_to(bytes_data=b"\x00\x01")
    error, code = await refusal(socket)
    assert error["error"] == "invalid_message" and code == 4003


async def test_a_chunk_length_schedule_outside_50_to_500_is_refused(app, owner, make_key):
    key = await sync_to_async(make_key)(owner)
    for schedule in ([10], [120, 600], [], "120"):
        socket = await opened(app, single(), key=key)
        await socket.send_json_to({"text": " ", "generation_config": {"chunk_length_schedule": schedule}})
        error, _ = await refusal(socket)
        assert "chunk_length_schedule" in error["message"], schedule


async def test_bad_query_values_are_refused(app, owner, make_key):
    key = await sync_to_async(make_key)(owner)
    for query, word in (("?output_format=flac", "output_format"), ("?inactivity_timeout=soon", "inactivity_timeout")):
        error, _ = await refusal(await opened(app, single(query=query), key=key))
        assert word in error["message"]


async def test_a_sixth_context_is_refused_as_elevenlabs_refuses_it(app, owner, make_key):
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, multi(), key=key)
    for n in range(5):
        await socket.send_json_to({"text": " ", "context_id": f"c{n}"})
    await socket.send_json_to({"text": " ", "context_id": "c5"})
    error, code = await refusal(socket)
    assert error["error"] == "max_active_conversations" and error["contextId"] == "c5" and code == 4008


async def test_a_closed_context_frees_its_place(app, owner, make_key):
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, multi(), key=key)
    for n in range(5):
        await socket.send_json_to({"text": " ", "context_id": f"c{n}"})
    await socket.send_json_to({"context_id": "c0", "close_context": True})
    assert await socket.receive_json_from(timeout=3) == {"isFinal": True, "contextId": "c0", "context_id": "c0"}
    await socket.send_json_to({"text": " ", "context_id": "c5"})
    assert await socket.receive_nothing(timeout=0.3)


async def test_text_beyond_the_limit_of_a_context_is_refused(app, owner, make_key, settings):
    settings.MAX_TEXT_LENGTH = 20
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, multi(), key=key)
    await socket.send_json_to({"text": "a" * 40, "context_id": "a"})  # twice the limit: the raw text's cap
    await socket.send_json_to({"text": "b", "context_id": "a"})
    error, _ = await refusal(socket)
    assert error["error"] == "max_text_length_exceeded" and error["contextId"] == "a"


async def test_text_beyond_the_total_of_a_socket_is_refused(app, owner, make_key, settings):
    settings.MAX_TEXT_LENGTH = 4  # a context takes 8 characters, the socket 25 × 4 = 100
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, multi(), key=key)
    for n in range(12):  # 96 characters, never flushed: closing drops them, nothing is spoken
        await socket.send_json_to({"text": "abcdefgh", "context_id": f"c{n}"})
        await socket.send_json_to({"context_id": f"c{n}", "close_context": True})
        assert (await socket.receive_json_from(timeout=3))["isFinal"] is True
    await socket.send_json_to({"text": "abcde", "context_id": "last"})
    error, _ = await refusal(socket)
    assert error["error"] == "max_text_length_exceeded" and "socket" in error["message"]


async def test_a_socket_that_sends_nothing_is_closed_at_its_inactivity_timeout(app, owner, make_key):
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, single(query="?inactivity_timeout=1"), key=key)
    started = asyncio.get_running_loop().time()
    error, code = await refusal(socket, timeout=5)
    assert error["error"] == "input_timeout_exceeded" and code == 4008
    assert 0.9 <= asyncio.get_running_loop().time() - started < 3


async def test_a_keep_alive_keeps_the_socket_open(app, owner, make_key):
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, multi(query="?inactivity_timeout=1"), key=key)
    await socket.send_json_to({"text": " ", "context_id": "a"})
    for _ in range(3):
        await asyncio.sleep(0.6)
        await socket.send_json_to({"text": "", "context_id": "a"})
    assert await socket.receive_nothing(timeout=0.3)
    error, _ = await refusal(socket, timeout=5)
    assert error["error"] == "input_timeout_exceeded"


async def test_a_key_revoked_mid_socket_closes_it(app, owner, make_key, settings):
    settings.EVENTS_RECHECK_SECONDS = 0.2
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, multi(), key=key)
    await socket.send_json_to({"text": " ", "context_id": "a"})
    api_key = await sync_to_async(APIKey.objects.get)(prefix=key.split("_")[1])
    await sync_to_async(apikey_revoke)(api_key=api_key)
    error, code = await refusal(socket)
    assert error["error"] == "key_revoked" and code == 4403  # as /ws/events/ closes


async def test_a_key_that_expires_mid_socket_closes_it(app, owner, make_key):
    key = await sync_to_async(make_key)(owner, expires_at=timezone.now() + timedelta(seconds=1))
    socket = await opened(app, multi(), key=key)
    await socket.send_json_to({"text": " ", "context_id": "a"})
    error, code = await refusal(socket, timeout=5)
    assert error["error"] == "key_expired" and code == 4401


async def test_the_accounts_quota_applies_to_each_piece(app, owner, make_key, settings):
    settings.EMBEDDED_WORKER = True  # the web process speaks (with Redis, separate workers are the default)
    owner.monthly_character_quota = 10
    await sync_to_async(owner.save)()
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, multi(), key=key)
    await socket.send_json_to({"text": "Far more than ten characters here.", "context_id": "a", "flush": True})
    error, code = await refusal(socket, timeout=10)
    assert error["error"] == "quota_exceeded" and error["contextId"] == "a" and code == 4008


def _dictionary(owner: Any, alias: str) -> str:
    from pronunciation.services import dictionary_create
    from speech.pronunciation import Rule

    return str(dictionary_create(owner=owner, name=f"Names {alias}", rules=[Rule("TTS", alias=alias)]).pk)


async def test_a_contexts_dictionary_locators_reach_its_jobs(app, owner, make_key, settings):
    settings.EMBEDDED_WORKER = True  # the web process speaks
    names = await sync_to_async(_dictionary)(owner, "text to speech")
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, multi(), key=key)
    locators = [{"pronunciation_dictionary_id": names, "version_id": None}]
    await socket.send_json_to(
        {"text": "TTS speaks. ", "context_id": "a", "pronunciation_dictionary_locators": locators, "flush": True}
    )
    first = await socket.receive_json_from(timeout=30)
    assert first.get("contextId") == "a" and "audio" in first, first
    job = await sync_to_async(lambda: SynthesisJob.objects.get())()
    assert [rule["alias"] for rule in job.lexicon] == ["text to speech"]
    await socket.disconnect()


async def test_another_accounts_dictionary_on_a_socket_is_refused_as_missing(app, owner, outsider, make_key, settings):
    settings.EMBEDDED_WORKER = True
    theirs = await sync_to_async(_dictionary)(outsider, "theirs")
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, multi(), key=key)
    locators = [{"pronunciation_dictionary_id": theirs}]
    await socket.send_json_to({"text": "TTS. ", "context_id": "a", "pronunciation_dictionary_locators": locators})
    await socket.send_json_to({"context_id": "a", "flush": True})
    error, code = await refusal(socket, timeout=10)
    assert error["contextId"] == "a" and error["error"] == "pronunciation_dictionary_not_found" and code == 4008
    assert theirs in error["message"]  # the same answer as a dictionary that never was
    assert not await sync_to_async(SynthesisJob.objects.exists)()


async def test_more_than_three_dictionary_locators_are_refused(app, owner, make_key):
    key = await sync_to_async(make_key)(owner)
    socket = await opened(app, single(), key=key)
    locators = [{"pronunciation_dictionary_id": f"00000000-0000-0000-0000-00000000000{n}"} for n in range(4)]
    await socket.send_json_to({"text": " ", "pronunciation_dictionary_locators": locators})
    error, code = await refusal(socket)
    assert error["error"] == "invalid_request" and "at most 3" in error["message"] and code == 4008
