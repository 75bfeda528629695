"""The one JSON reader and the one text rule for whatever arrives from outside, on every
route and protocol: DRF's parser for every API view, `loads_request_json` for views and
protocol handlers that parse by hand (the compatibility API packages,
websocket and TCP servers), `text_refusal`/`check_text` for text that arrives outside
JSON (form fields, uploaded text files, protocol frames).

Python's `json` accepts input that the rest of the stack cannot take, and each such
value used to surface far from the parser as a 500: nesting deep enough to raise
RecursionError, NUL characters (PostgreSQL text cannot hold them: DataError), lone
surrogates (`"\\ud800"`: no UTF-8 text can hold them, so saving the job raised
UnicodeEncodeError), integers too large for any field (float() overflows), and
NaN/Infinity. They are refused here, once, before any job exists, as a 400 that says
what is wrong; see docs/api.md "Errors".
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as _DRFJSONParser

# Deeper than any request body Speaker takes (params is one level inside the body).
MAX_JSON_DEPTH = 32
# Integers beyond 64 bits fit no column and overflow float(): no field wants them.
MAX_JSON_INT = 2**63 - 1


# A lone (unpaired) UTF-16 surrogate: JSON's "\\ud800" escape decodes to one.
_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidJSON(ValueError):
    """The body is not JSON Speaker can take; the message says why, for the caller."""


class InvalidText(ValueError):
    """Text Speaker cannot keep; the message names the field and says why."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def text_refusal(text: str) -> str | None:
    """The one text rule: why Speaker cannot take `text`, or None. NUL (PostgreSQL text
    cannot hold it) and lone surrogates (no UTF-8 text can hold them) are refused."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000); remove it"
    match = _SURROGATE.search(text)
    if match is not None:
        return f"contains a lone surrogate (U+{ord(match.group()):04X}), which is not a character; send valid Unicode"
    return None


def check_text(text: str, *, field: str) -> str:
    """`text` if the text rule takes it; InvalidText naming `field` otherwise."""
    refusal = text_refusal(text)
    if refusal is not None:
        raise InvalidText(f"{field} {refusal}.", field)
    return text


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 19:
        raise InvalidJSON(f"A number in the body is too large (at most {MAX_JSON_INT}).")
    value = int(text)
    if abs(value) > MAX_JSON_INT:
        raise InvalidJSON(f"A number in the body is too large (at most {MAX_JSON_INT}).")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJSON("A number in the body is too large to be a finite number.")
    return value


def _parse_constant(name: str) -> Any:
    raise InvalidJSON(f"{name} is not valid JSON; send a finite number.")


def _check(value: Any) -> None:
    """Walk the parsed value without recursion: bounded depth, no NUL in any string."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            refusal = text_refusal(item)
            if refusal is not None:
                raise InvalidJSON(f"Text in the body {refusal}.")
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise InvalidJSON(f"The body is nested too deeply (at most {MAX_JSON_DEPTH} levels).")
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)


def loads_request_json(raw: bytes | str) -> Any:
    """Parse a request body (or a form field, a websocket frame: any JSON from outside);
    raises InvalidJSON (a ValueError) with a message for the caller."""
    try:
        value = json.loads(raw, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except InvalidJSON:
        raise
    except RecursionError as exc:
        raise InvalidJSON(f"The body is nested too deeply (at most {MAX_JSON_DEPTH} levels).") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, bad UTF-8, a 4300+ digit number
        raise InvalidJSON(f"The body is not valid JSON: {exc}") from exc
    _check(value)
    return value


class JSONParser(_DRFJSONParser):
    """DRF's JSON parser with the limits above (DEFAULT_PARSER_CLASSES)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            raw = stream.read() if stream is not None else b""
            return loads_request_json(raw.decode(encoding) if isinstance(raw, bytes) else raw)
        except (InvalidJSON, UnicodeDecodeError, LookupError) as exc:
            message = str(exc) if isinstance(exc, InvalidJSON) else f"The body is not valid JSON: {exc}"
            raise ParseError(message) from exc
