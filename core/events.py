"""Events for websocket clients, sent through the channel layer to per-user groups.

Messages are hints (see docs/ARCHITECTURE.md): a client that reconnects receives a
snapshot first, so a lost message never leaves it wrong for long. Over one connection
the guarantee is stronger (docs/api.md "Live events"): every event the channel layer carries
is numbered per user (`useq`, from a counter shared by every process), so the consumer
notices a message the layer dropped and resyncs its client; final job events are also
re-derived from the database (`realtime.events_consumer`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("speaker.events")

# Which scope of an API key lets its socket hear which events (sessions hear all). Job
# events need the scope that reads jobs; voice events the one that reads voices.
EVENT_SCOPES: dict[str, str] = {"job": "synthesis:write", "voice": "voices:read", "production": "synthesis:write"}
FINAL_JOB_EVENTS: dict[str, str] = {"completed": "job.completed", "failed": "job.failed", "cancelled": "job.cancelled"}


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def key_group(api_key_id: int) -> str:
    return f"apikey.{api_key_id}"


def session_group(session_key: str) -> str:
    """Sockets opened with one dashboard session (closed when it logs out). The session
    key is a secret: the group name carries a hash of it, never the key."""
    return f"session.{hashlib.sha256(session_key.encode()).hexdigest()[:32]}"


# ----------------------------------------------------------------- per-user sequence

_local_seq: dict[int, int] = defaultdict(int)
_local_seq_lock = threading.Lock()


def _seq_key(user_id: int) -> str:
    return f"events:useq:{user_id}"


def _shared_counter() -> bool:
    # The Redis layer crosses processes, so its numbers must come from Redis too (the
    # default cache is Redis whenever REDIS_URL is set). The in-memory layer lives in one
    # process: a counter in memory is exact there, and no cache culling can reset it.
    return bool(settings.REDIS_URL)


def next_user_seq(user_id: int) -> int | None:
    """The next number of `user_id`'s event stream; None when it cannot be had (the
    event is then sent unnumbered and the consumer's database re-check covers it)."""
    if not _shared_counter():
        with _local_seq_lock:
            _local_seq[user_id] += 1
            return _local_seq[user_id]

    try:
        cache.add(_seq_key(user_id), 0, timeout=None)
        return int(cache.incr(_seq_key(user_id)))
    except Exception:  # Redis unreachable: the event still goes out, unnumbered
        logger.warning("could not number an event for user %s", user_id, exc_info=True)
        return None


def current_user_seq(user_id: int) -> int | None:
    """The last number handed out for `user_id` (0 before the first), None if unknown."""
    if not _shared_counter():
        with _local_seq_lock:
            return _local_seq.get(user_id, 0)

    try:
        return int(cache.get(_seq_key(user_id), 0))
    except Exception:
        logger.warning("could not read the event counter of user %s", user_id, exc_info=True)
        return None


# ----------------------------------------------------------------------------- sending

_server_loop: asyncio.AbstractEventLoop | None = None
_server_thread: int | None = None


def set_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Embedded mode: the in-memory channel layer's queues belong to the web server's
    event loop, so threads that are not asgiref's (the engine worker) must hand their
    sends to that loop rather than run them on a loop of their own."""
    global _server_loop, _server_thread
    _server_loop, _server_thread = loop, threading.get_ident()


_sender_loop: asyncio.AbstractEventLoop | None = None
_sender_lock = threading.Lock()


def _sender() -> asyncio.AbstractEventLoop:
    """With Redis, events are sent from one long-lived loop per process. `async_to_sync`
    from a plain thread (the engine worker's) makes a new event loop per call, and
    channels_redis a new connection pool per loop: a connection opened and closed for
    every event, hundreds of them under load. This loop keeps one sized pool warm."""
    global _sender_loop
    with _sender_lock:
        if _sender_loop is None or not _sender_loop.is_running():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="speaker-event-sender", daemon=True).start()
            _sender_loop = loop
        return _sender_loop


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = _server_loop
        if loop is not None and loop.is_running() and threading.get_ident() != _server_thread:
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).result(timeout=5)
        elif not isinstance(layer, InMemoryChannelLayer):  # its queues live on the server's loop
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _sender()).result(timeout=15)
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # a hint that could not be delivered must not fail the action
        logger.warning("could not send %s to %s", message.get("type"), group, exc_info=True)


# Who else hears every event (docs/ARCHITECTURE.md, "Webhooks"): an upper app hands a
# function down at start-up (webhooks.apps registers its outbox), so the websocket and
# whoever listens here get the same payload from the one place that announces it.
EventListener = Callable[[int, str, dict[str, Any]], None]
_listeners: list[EventListener] = []


def add_event_listener(listener: EventListener) -> None:
    """Call `listener(user_id, event, payload)` for every user event (once per listener)."""
    if listener not in _listeners:
        _listeners.append(listener)


def send_user_event(*, user_id: int, event: str, payload: dict[str, Any]) -> None:
    """`event` like "job.completed"; the consumer relays `{"type": event, **payload}`."""
    message: dict[str, Any] = {"type": "speaker.event", "event": event, "payload": payload}
    useq = next_user_seq(user_id)
    if useq is not None:
        message["useq"] = useq
    _send(user_group(user_id), message)
    for listener in _listeners:
        try:
            listener(user_id, event, payload)
        except Exception:  # a listener's trouble must not fail the action that announced it
            logger.exception("event listener %s failed on %s", getattr(listener, "__name__", listener), event)


def close_key_sockets(*, api_key_id: int) -> None:
    """Revoking a key closes the websockets it opened."""
    _send(key_group(api_key_id), {"type": "speaker.key_revoked"})


def close_user_sockets(*, user_id: int, reason: str) -> None:
    """A deactivated (or deleted) user's sockets close, whatever credential opened them."""
    _send(user_group(user_id), {"type": "speaker.credential_ended", "code": 4403, "reason": reason})


def close_session_sockets(*, session_key: str, reason: str) -> None:
    """A session that logs out closes the sockets it opened."""
    _send(session_group(session_key), {"type": "speaker.credential_ended", "code": 4401, "reason": reason})
