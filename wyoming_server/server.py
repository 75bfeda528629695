"""The Wyoming server (docs/home-assistant.md): the `wyoming` library's server on
WYOMING_URI, one `WyomingHandler` per connection, at most WYOMING_MAX_CONNECTIONS at
once (one more is answered with an `error` event and closed at once, so a client
opening hundreds cannot starve the others)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from urllib.parse import urlparse

from django.conf import settings
from wyoming.event import async_write_event
from wyoming.server import AsyncEventHandler, AsyncServer

from wyoming_server.handler import WyomingHandler
from wyoming_server.protocol import WyomingRefusal

logger = logging.getLogger("speaker.wyoming")


def is_loopback(uri: str) -> bool:
    """Whether `uri` listens only on this machine: a loopback TCP address or not TCP
    at all (a Unix socket, stdio)."""
    parsed = urlparse(uri)
    if parsed.scheme != "tcp":
        return True
    host = parsed.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


class _Refuse(AsyncEventHandler):
    """A connection over the cap: told why, then closed."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, refusal: WyomingRefusal) -> None:
        super().__init__(reader, writer)
        self.refusal = refusal

    async def handle_event(self, event: object) -> bool:
        return False

    async def run(self) -> None:
        try:
            async with asyncio.timeout(5):
                await async_write_event(self.refusal.event(), self.writer)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            self.writer.close()


class WyomingServer:
    def __init__(self, uri: str, *, raw_key: str, max_connections: int | None = None) -> None:
        self.uri = uri
        self.raw_key = raw_key
        self.max_connections = max_connections or settings.WYOMING_MAX_CONNECTIONS
        self.handlers: set[WyomingHandler] = set()
        self.server = AsyncServer.from_uri(uri)

    @property
    def connections(self) -> int:
        return len(self.handlers)

    def _handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> AsyncEventHandler:
        if self.connections >= self.max_connections:
            return _Refuse(
                reader,
                writer,
                WyomingRefusal(
                    f"The server holds {self.connections} connections, its limit (WYOMING_MAX_CONNECTIONS); "
                    "retry shortly.",
                    "too_many_connections",
                ),
            )
        handler = WyomingHandler(reader, writer, raw_key=self.raw_key)
        handler.on_close = lambda: self.handlers.discard(handler)
        self.handlers.add(handler)
        return handler

    async def start(self) -> None:
        """Listen without blocking (tests)."""
        await self.server.start(self._handler)

    async def run(self) -> None:
        """Listen until stopped (SIGTERM: the library stops every connection)."""
        await self.server.run(self._handler)

    async def stop(self) -> None:
        await self.server.stop()
