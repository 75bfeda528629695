"""Wyoming's wire format, read with bounds (docs/home-assistant.md "Limits").

An event is a JSON header line, then `data_length` bytes of JSON merged into its data,
then `payload_length` bytes of payload. The `wyoming` library's reader trusts the
lengths (a `data_length` of 10 GB is read into memory) and turns a broken header into a
silent end of the connection; this reader keeps the library's `Event` and writer but
refuses, with a `WyomingRefusal` that says what was wrong: a header line over 64 KiB
(the stream reader's limit) or not a JSON object with a `type`, lengths that are not
counts or exceed WYOMING_MAX_EVENT_BYTES, data that is not a JSON object, and a body
that stops short of its lengths (the connection ends, or WYOMING_CLIENT_TIMEOUT passes).
Every JSON text goes through `core.parsers` (bounded depth, no NUL, no lone surrogates).
"""

from __future__ import annotations

import asyncio
from typing import Any

from wyoming.error import Error
from wyoming.event import Event

from core.parsers import InvalidJSON, loads_request_json

_LENGTHS = ("data_length", "payload_length")


class WyomingRefusal(Exception):
    """Bad input or a refused request: answered with Wyoming's `error` event (`text`,
    `code`), then the connection closes."""

    def __init__(self, text: str, code: str) -> None:
        super().__init__(text)
        self.text, self.code = text, code

    def event(self) -> Event:
        return Error(text=self.text, code=self.code).event()


def _mib(size: int) -> str:
    return f"{size / 1048576:g} MiB" if size >= 1048576 else f"{size} bytes"


def _length(header: dict[str, Any], name: str, cap: int) -> int:
    value = header.get(name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WyomingRefusal(f"{name} must be a count of bytes, not {value!r}.", "invalid_event")
    if value > cap:
        raise WyomingRefusal(
            f"{name} is {value} bytes; this server takes at most {_mib(cap)} (WYOMING_MAX_EVENT_BYTES).",
            "event_too_large",
        )
    return value


async def _read_exactly(reader: asyncio.StreamReader, size: int, name: str, timeout: float) -> bytes:
    try:
        async with asyncio.timeout(timeout):
            return await reader.readexactly(size)
    except asyncio.IncompleteReadError as exc:
        raise WyomingRefusal(
            f"{name} says {size} bytes, but the connection ended after {len(exc.partial)}.", "invalid_event"
        ) from exc
    except TimeoutError as exc:
        raise WyomingRefusal(
            f"{name} says {size} bytes, but fewer came within {timeout:g} s (WYOMING_CLIENT_TIMEOUT).",
            "invalid_event",
        ) from exc


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = loads_request_json(raw)
    except InvalidJSON as exc:
        raise WyomingRefusal(f"The {what} is not JSON Speaker can read: {exc}", "invalid_event") from exc
    if not isinstance(value, dict):
        raise WyomingRefusal(f"The {what} must be a JSON object.", "invalid_event")
    return value


async def read_event(reader: asyncio.StreamReader, *, max_bytes: int, timeout: float) -> Event | None:
    """The next event, or None when the client closed the connection between events.
    WyomingRefusal for anything that is not a well-formed event within the caps."""
    try:
        line = await reader.readline()
    except ValueError as exc:  # the stream reader's line limit (asyncio.LimitOverrunError)
        raise WyomingRefusal("The header line is longer than 64 KiB.", "invalid_event") from exc
    except ConnectionError:
        return None
    if not line:
        return None
    if not line.endswith(b"\n"):
        return None  # the connection ended inside a header: nobody is left to tell
    header = _json_object(line, "header line")
    kind = header.get("type")
    if not isinstance(kind, str) or not kind:
        raise WyomingRefusal("The header has no event type (`type`).", "invalid_event")
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise WyomingRefusal("The header's `data` must be a JSON object.", "invalid_event")
    data_length, payload_length = (_length(header, name, max_bytes) for name in _LENGTHS)
    if data_length:
        raw = await _read_exactly(reader, data_length, "data_length", timeout)
        data = {**data, **_json_object(raw, "event's data")}
    payload = await _read_exactly(reader, payload_length, "payload_length", timeout) if payload_length else None
    return Event(type=kind, data=data, payload=payload)
