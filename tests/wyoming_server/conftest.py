"""Wyoming server fixtures: the server of `manage.py runwyoming` started in the test's
event loop on a free loopback port (the embedded default: this process runs the engine),
speaking for the `owner` persona's key; clients are the `wyoming` library's
AsyncTcpClient, as Home Assistant uses it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from wyoming.client import AsyncTcpClient
from wyoming.event import Event

from accounts.models import User
from tests.live import free_port
from wyoming_server.server import WyomingServer


@dataclass
class Heard:
    """What a client received for one request, in order."""

    events: list[Event] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [event.type for event in self.events]

    @property
    def audio(self) -> bytes:
        return b"".join(event.payload or b"" for event in self.events if event.type == "audio-chunk")

    @property
    def error(self) -> dict[str, Any] | None:
        return next((event.data for event in self.events if event.type == "error"), None)


@dataclass
class Running:
    server: WyomingServer
    port: int

    def client(self, read_timeout: float = 60) -> AsyncTcpClient:
        return AsyncTcpClient("127.0.0.1", self.port, connect_timeout=5, read_timeout=read_timeout)


@pytest.fixture
async def start_wyoming(piper_only, transactional_db, settings) -> AsyncIterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    """Start a server for `raw_key` (more than one may run; each is stopped afterwards).
    The embedded default, whatever REDIS_URL says: this process runs the engine
    (separate workers: test_runwyoming_live.py)."""
    settings.EMBEDDED_WORKER = True
    started: list[WyomingServer] = []

    async def _start(raw_key: str, **kwargs: Any) -> Running:
        port = free_port()
        server = WyomingServer(f"tcp://127.0.0.1:{port}", raw_key=raw_key, **kwargs)
        await server.start()
        started.append(server)
        return Running(server, port)

    yield _start
    for server in started:
        await server.stop()
    # The connection the server's database calls used (asgiref's thread), closed as a
    # request's would be: PostgreSQL cannot drop the test database under an open one.
    await sync_to_async(connections.close_all)()


@pytest.fixture
async def wyoming(start_wyoming, owner: User, make_key) -> Running:  # type: ignore[no-untyped-def]
    """The owner's server."""
    return await start_wyoming(await sync_to_async(make_key)(owner))


async def until(client: AsyncTcpClient, *stop_types: str, limit: int = 100_000) -> Heard:
    """Read events until one of `stop_types` (or an error, or the end of the connection)."""
    heard = Heard()
    for _ in range(limit):
        event = await client.read_event()
        if event is None:
            return heard
        heard.events.append(event)
        if event.type in stop_types or event.type == "error":
            return heard
    raise AssertionError(f"no {stop_types} after {limit} events")


async def closed(client: AsyncTcpClient, timeout: float = 10) -> bool:
    """Whether the server closed the connection (the next read sees its end)."""
    try:
        return await asyncio.wait_for(client.read_event(), timeout) is None
    except ConnectionError:
        return True
