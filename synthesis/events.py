"""Events for websocket clients, sent through the channel layer to per-user groups.

Messages are hints (see ARCHITECTURE.md): a client that reconnects receives a snapshot
first, so a lost message never leaves it wrong for long."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger("speaker.events")


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def key_group(api_key_id: int) -> str:
    return f"apikey.{api_key_id}"


_server_loop: asyncio.AbstractEventLoop | None = None
_server_thread: int | None = None


def set_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Embedded mode: the in-memory channel layer's queues belong to the web server's
    event loop, so threads that are not asgiref's (the engine worker) must hand their
    sends to that loop rather than run them on a loop of their own."""
    global _server_loop, _server_thread
    _server_loop, _server_thread = loop, threading.get_ident()


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = _server_loop
        if loop is not None and loop.is_running() and threading.get_ident() != _server_thread:
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).result(timeout=5)
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # a hint that could not be delivered must not fail the action
        logger.warning("could not send %s to %s", message.get("type"), group, exc_info=True)


def send_user_event(*, user_id: int, event: str, payload: dict[str, Any]) -> None:
    """`event` like "job.completed"; the consumer relays `{"type": event, **payload}`."""
    _send(user_group(user_id), {"type": "speaker.event", "event": event, "payload": payload})


def close_key_sockets(*, api_key_id: int) -> None:
    """Revoking a key closes the websockets it opened."""
    _send(key_group(api_key_id), {"type": "speaker.key_revoked"})
