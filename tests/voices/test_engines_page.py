"""The staff Engines page (/engines/): engine status, the licence, "Install XTTS", and
the download's progress live over the websocket; afterwards the voices waiting for the
engine are queued and the worker prepares them. The checkpoint comes from the tiny one
served as a mirror on 127.0.0.1 (tests/xtts_install_fixtures.py)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.asgi import get_asgi_application
from django.db import connections

from accounts.models import User
from core.events import set_server_loop
from engine_host.worker import EngineWorker
from monitoring.models import AuditEvent
from speaker_site.routing import build_application
from tests.synthesis.conftest import run_once_in_thread
from tests.xtts_install_fixtures import manifest, mirror, target, xtts_on_a_fresh_install  # noqa: F401
from voices.models import Voice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(db) -> User:  # type: ignore[no-untyped-def]
    return User.objects.create_user(username="opal", password="operator-pass-123", is_staff=True)


def test_people_who_are_not_staff_do_not_find_the_page(client, owner) -> None:  # type: ignore[no-untyped-def]
    client.force_login(owner)

    assert client.get("/engines/").status_code == 404
    assert client.post("/engines/", {"accept_license": "true"}).status_code == 404


def test_staff_see_why_xtts_is_off_the_licence_and_the_install_button(
    client, operator, xtts_on_a_fresh_install, mirror
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(operator)

    page = client.get("/engines/").content.decode()

    assert 'data-xtts-status="unavailable"' in page
    assert "xtts install --accept-license" in page  # the reason says how
    assert "Coqui Public Model License" in page and "non-commercial" in page
    assert "Install XTTS" in page
    assert mirror.mirror in page  # where it will come from
    assert 'href="/engines/"' in page  # in the staff navigation


def test_installing_without_ticking_the_licence_is_refused(client, operator, xtts_on_a_fresh_install, mirror) -> None:  # type: ignore[no-untyped-def]
    client.force_login(operator)

    response = client.post("/engines/", {})

    assert response.status_code == 400
    assert "Tick the box to accept the licence" in response.content.decode()
    assert mirror.requests == []
    assert not AuditEvent.objects.filter(action__startswith="xtts.").exists()


async def receive_until(socket: WebsocketCommunicator, phase: str) -> list[dict[str, Any]]:
    seen = []
    while True:
        message = await socket.receive_json_from(timeout=120)
        if message["type"] == "engine.install":
            seen.append(message)
            if message["phase"] in (phase, "failed"):
                return seen


async def test_install_xtts_shows_live_progress_then_the_waiting_voice_is_prepared(
    client, operator, xtts_on_a_fresh_install, create_voice, target
) -> None:  # type: ignore[no-untyped-def]
    set_server_loop(asyncio.get_running_loop())
    voice = (await sync_to_async(create_voice)()).json()
    assert voice["status"] == "pending_engine"
    await sync_to_async(client.force_login)(operator)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    app = build_application(get_asgi_application(), embedded_worker=False)
    socket = WebsocketCommunicator(
        app, "/ws/events/", headers=[(b"cookie", cookie), (b"origin", b"http://localhost"), (b"host", b"localhost")]
    )
    assert (await socket.connect(timeout=10))[0]
    assert (await socket.receive_json_from(timeout=10))["type"] == "snapshot"

    response = await sync_to_async(client.post)("/engines/", {"accept_license": "true"})
    assert response.status_code == 302

    events = await receive_until(socket, "installed")
    await socket.disconnect()
    for thread in threading.enumerate():  # the install's thread closes its connection last
        if thread.name == "xtts-install":
            await asyncio.to_thread(thread.join, 30)
    downloading = [e for e in events if e["phase"] == "downloading"]
    assert downloading and downloading[-1]["done"] == downloading[-1]["total"] > 0
    assert [e["done"] for e in downloading] == sorted(e["done"] for e in downloading)
    final = events[-1]
    assert final["phase"] == "installed", final
    assert final["engine_available"] is True and final["voices_requeued"] == 1
    assert (target / "config.json").is_file()
    audit = AuditEvent.objects.filter(action__startswith="xtts.").order_by("pk").values_list("action", "user__username")
    assert await sync_to_async(list)(audit) == [("xtts.license_accepted", "opal"), ("xtts.install", "opal")]

    await asyncio.to_thread(run_once_in_thread, EngineWorker(worker_id="engines-page", heartbeats=False))
    assert (await Voice.objects.aget(pk=voice["id"])).status == "ready"
    page = (await sync_to_async(client.get)("/engines/")).content.decode()
    await sync_to_async(connections.close_all)()  # the sync_to_async thread's connection
    assert 'data-xtts-status="available"' in page and "Install XTTS" not in page
