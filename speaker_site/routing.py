"""Protocol routing: HTTP to Django, websockets by path (`websocket_routes`), and the
`engine` channel to the engine worker consumer (hosted by `manage.py runengine`).

Each websocket endpoint brings its own authentication (a middleware around its consumer),
so a protocol with other credentials is added beside `/ws/events/` without touching it.
Any other path is answered by `NoSuchEndpointConsumer` (close code 4404).

With the embedded default (EMBEDDED_WORKER) the engine worker runs as a thread of the
web process, started on the first connection so that it knows the server's event loop
(the in-memory channel layer lives on that loop; see `core.events`)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter
from django.conf import settings
from django.urls import path, re_path

from core.events import set_server_loop
from core.wakeup import ENGINE_CHANNEL
from elevenlabs_api.ws_consumer import MultiTextToSpeechSocket, TextToSpeechSocket
from engine_host.hosting import EngineWorkerConsumer, start_embedded_worker
from realtime.auth import WebsocketAuthMiddleware
from realtime.events_consumer import EventsConsumer
from realtime.not_found import NoSuchEndpointConsumer


class EmbeddedWorkerStarter:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.started = False

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the worker once, on the server's loop thread."""

        if self.started:
            return
        self.started = True
        set_server_loop(loop)
        start_embedded_worker()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if not self.started and scope["type"] in ("http", "websocket"):
            self.start(asyncio.get_running_loop())
        return await self.app(scope, receive, send)


def _start_with_daphne(starter: EmbeddedWorkerStarter) -> None:
    """Under daphne, start the worker as soon as the server runs rather than on the first
    connection: a restarted `make run` takes over the job its predecessor left at once
    (engine_host.worker), even before anyone opens the dashboard. Other servers (and
    tests that import this module) start it on the first connection."""
    daphne_server = sys.modules.get("daphne.server")
    if daphne_server is None or not hasattr(daphne_server, "twisted_loop"):
        return
    from twisted.internet import reactor

    reactor.callWhenRunning(starter.start, daphne_server.twisted_loop)


def websocket_routes() -> list[Any]:
    return [
        path("ws/events/", WebsocketAuthMiddleware(EventsConsumer.as_asgi())),
        # ElevenLabs' websockets authenticate themselves (a key header or the first message).
        path("v1/text-to-speech/<str:voice_id>/stream-input", TextToSpeechSocket.as_asgi()),
        path("v1/text-to-speech/<str:voice_id>/multi-stream-input", MultiTextToSpeechSocket.as_asgi()),
        re_path(r"", NoSuchEndpointConsumer.as_asgi()),  # last: every other path
    ]


def build_application(http_app: Any, *, embedded_worker: bool | None = None) -> Any:
    router = ProtocolTypeRouter(
        {
            "http": http_app,
            "websocket": URLRouter(websocket_routes()),
            "channel": ChannelNameRouter({ENGINE_CHANNEL: EngineWorkerConsumer.as_asgi()}),
        }
    )
    if settings.EMBEDDED_WORKER if embedded_worker is None else embedded_worker:
        starter = EmbeddedWorkerStarter(router)
        _start_with_daphne(starter)
        return starter
    return router
