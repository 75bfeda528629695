"""/ws/events/ lives no longer than its credential, hears only what its key's scopes allow,
and checks a signed-in socket's origin by scheme, host and port."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.asgi import get_asgi_application
from django.utils import timezone

from accounts.models import User
from core.events import send_user_event, set_server_loop
from speaker_site.routing import build_application

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def app(settings):  # type: ignore[no-untyped-def]
    settings.EVENTS_RECHECK_SECONDS = 0.2
    return build_application(get_asgi_application(), embedded_worker=False)


async def open_socket(app, headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:  # type: ignore[no-untyped-def]
    set_server_loop(asyncio.get_running_loop())
    socket = WebsocketCommunicator(app, "/ws/events/", headers=headers)
    connected, _ = await socket.connect(timeout=10)
    assert connected
    assert (await socket.receive_json_from(timeout=10))["type"] == "snapshot"
    return socket


async def closing(socket: WebsocketCommunicator, timeout: float = 5) -> tuple[int, str, str]:
    """Read until the server closes: (close code, error code, close reason)."""
    error_code = ""
    while True:
        output = await socket.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output["code"], error_code, output.get("reason", "")
        message = __import__("json").loads(output["text"])
        if message["type"] == "error":
            error_code = message["error"]["code"]


async def session_cookie(client, user: User) -> bytes:  # type: ignore[no-untyped-def]
    await sync_to_async(client.force_login)(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


# ------------------------------------------------------------------ credential ends


async def test_a_socket_closes_when_its_key_expires(app, owner, make_key):
    key = await sync_to_async(make_key)(owner, expires_at=timezone.now() + timedelta(seconds=1))
    socket = await open_socket(app, [(b"x-api-key", key.encode())])
    code, error, reason = await closing(socket, timeout=5)
    assert (code, error) == (4401, "key_expired")
    assert "expired" in reason


async def test_a_socket_closes_when_its_session_logs_out(app, owner, client):
    cookie = await session_cookie(client, owner)
    socket = await open_socket(app, [(b"cookie", cookie), (b"origin", b"http://localhost"), (b"host", b"localhost")])
    await sync_to_async(client.logout)()
    assert (await closing(socket))[:2] == (4401, "session_ended")


async def test_a_socket_closes_when_its_user_is_deactivated(app, owner, owner_key, client):
    key_socket = await open_socket(app, [(b"x-api-key", owner_key.encode())])
    cookie = await session_cookie(client, owner)
    session_socket = await open_socket(
        app, [(b"cookie", cookie), (b"origin", b"http://localhost"), (b"host", b"localhost")]
    )
    owner.is_active = False
    await sync_to_async(owner.save)()
    assert (await closing(key_socket))[:2] == (4403, "account_disabled")
    assert (await closing(session_socket))[:2] == (4403, "account_disabled")


async def test_a_deactivation_that_sent_no_message_still_closes_the_socket(app, owner, owner_key):
    socket = await open_socket(app, [(b"x-api-key", owner_key.encode())])
    # A bulk update sends no signal: the periodic re-check of the credential catches it.
    await sync_to_async(User.objects.filter(pk=owner.pk).update)(is_active=False)
    assert (await closing(socket, timeout=5))[:2] == (4403, "account_disabled")


async def test_a_socket_of_a_live_key_stays_open(app, owner, make_key):
    key = await sync_to_async(make_key)(owner, expires_at=timezone.now() + timedelta(hours=1))
    socket = await open_socket(app, [(b"x-api-key", key.encode())])
    assert await socket.receive_nothing(timeout=0.8)  # several re-checks passed
    await socket.disconnect()


# -------------------------------------------------------------------------- scopes


async def test_a_voices_read_key_hears_voice_events_and_no_job_events(app, owner, make_key):
    key = await sync_to_async(make_key)(owner, ["voices:read"])
    socket = await open_socket(app, [(b"x-api-key", key.encode())])
    job = {"job_id": "00000000-0000-0000-0000-000000000001", "status": "queued", "progress": 0.0, "voice": "joe"}
    await sync_to_async(send_user_event)(user_id=owner.pk, event="job.queued", payload=job)
    voice = {"voice_id": "v1", "name": "Mine", "status": "ready"}
    await sync_to_async(send_user_event)(user_id=owner.pk, event="voice.ready", payload=voice)
    heard = await socket.receive_json_from(timeout=2)
    assert heard["type"] == "voice.ready"
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_a_synthesis_key_hears_job_events_and_no_voice_events(app, owner, make_key):
    key = await sync_to_async(make_key)(owner, ["synthesis:write"])
    socket = await open_socket(app, [(b"x-api-key", key.encode())])
    await sync_to_async(send_user_event)(
        user_id=owner.pk, event="voice.ready", payload={"voice_id": "v1", "status": "ready"}
    )
    job = {"job_id": "00000000-0000-0000-0000-000000000002", "status": "queued", "progress": 0.0, "voice": "joe"}
    await sync_to_async(send_user_event)(user_id=owner.pk, event="job.queued", payload=job)
    assert (await socket.receive_json_from(timeout=2))["type"] == "job.queued"
    await socket.disconnect()


# -------------------------------------------------------------------------- origin


@pytest.mark.parametrize(
    "origin",
    [b"http://localhost:9999", b"https://localhost:8010", b"http://127.0.0.1:8010", b"null"],
    ids=["other-port", "other-scheme", "other-host", "opaque"],
)
async def test_a_cookie_socket_from_another_origin_of_an_allowed_host_is_refused(app, owner, client, origin):
    cookie = await session_cookie(client, owner)
    socket = WebsocketCommunicator(
        app, "/ws/events/", headers=[(b"cookie", cookie), (b"origin", origin), (b"host", b"localhost:8010")]
    )
    assert (await socket.connect(timeout=10))[0]
    message = await socket.receive_json_from(timeout=10)
    assert message["error"]["code"] == "origin_not_allowed"
    assert (await socket.receive_output(timeout=2))["code"] == 4403


async def test_a_cookie_socket_from_its_own_origin_or_a_trusted_one_is_accepted(app, owner, client, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com"]
    cookie = await session_cookie(client, owner)
    own = await open_socket(
        app, [(b"cookie", cookie), (b"origin", b"http://localhost:8010"), (b"host", b"localhost:8010")]
    )
    await own.disconnect()
    trusted = await open_socket(
        app, [(b"cookie", cookie), (b"origin", b"https://app.example.com"), (b"host", b"localhost:8010")]
    )
    await trusted.disconnect()


async def test_behind_a_tls_proxy_the_https_origin_is_the_own_origin(app, owner, client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    cookie = await session_cookie(client, owner)
    headers = [
        (b"cookie", cookie),
        (b"origin", b"https://localhost"),
        (b"host", b"localhost"),
        (b"x-forwarded-proto", b"https"),
    ]
    socket = await open_socket(app, headers)
    await socket.disconnect()
