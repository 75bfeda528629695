"""Two places where Twisted, under daphne, answered for the application.

1. Reason phrases. Django hands daphne a bare status code over ASGI (the ASGI response
   message has no reason phrase), and daphne lets Twisted look the phrase up in
   `twisted.web.http.RESPONSES`. That table stops short of codes the API answers (422,
   429, ...), so status lines read `HTTP/1.1 429 Unknown Status`. The gaps are filled from
   the standard library's `http.HTTPStatus`; Twisted's own entries are kept.

2. Form bodies. Twisted's `http.Request` parses POST bodies of type multipart/form-data
   itself (for its own `request.args`, which daphne never reads) and, when that parse
   fails, answers a bare `400` with no body before the request reaches Django. Django
   parses the body anyway (and answers with the API's error body), so Twisted's parse is
   switched off: one parser, one error body, and uploads are not parsed twice.

3. Oversized request heads. Twisted reads a request line and each header line up to
   `HTTPChannel.MAX_LENGTH` (16 KiB) and the request line plus all headers up to
   `totalHeadersSize` (16 KiB). Past the first it dropped the connection without a word
   (a URL of 20 KB got no response at all), past the second it answered a bare 400.
   Both now answer with the error body: 414 when the URL is what is too long, 431 when
   the headers are. The limits stay Twisted's (`HEAD_LIMIT_BYTES`): a URL is no place
   for 16 KiB of data, and request bodies have their own limits.

4. Websocket close reasons. A consumer closes with a code and a reason (ASGI
   `websocket.close` carries both), but daphne handed Autobahn the code alone, so a
   refused socket's client never read why. The reason now travels in the close frame.

5. Unsent bytes. ASGI has no back-pressure for websockets: `websocket.send` returns at
   once and Twisted keeps whatever the client has not read in the connection's write
   buffer, without bound. A consumer that sends a lot (audio) reads how much is waiting
   there through `unsent_bytes(scope)` (the scope extension `speaker.unsent_bytes`), so a
   client that stops reading is told apart from one that reads slowly, and its
   generation is stopped instead of buffered (docs/voice-agents.md "Message reference").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from typing import Any

from core.errors import error_body

HEAD_LIMIT_BYTES = 16384  # Twisted's own, for the request line and for the whole head
# A connection that was answered 414/431 is given this long to finish sending its
# oversized head (read and dropped, so that closing does not reset the connection
# before the client has read the answer).
_DRAIN_SECONDS = 5.0
_HEAD_ERRORS = {
    414: (
        "uri_too_long",
        "The URL is too long: the request line may hold at most {limit} bytes. Send long values in a request body.",
    ),
    431: (
        "request_header_fields_too_large",
        "The request headers are too large: a header line, and the request line with all headers, may hold at "
        "most {limit} bytes.",
    ),
}


def complete_reason_phrases() -> None:
    try:
        from twisted.web import http as twisted_http
    except ImportError:  # served by another ASGI server: nothing to fill
        return
    for status in HTTPStatus:
        twisted_http.RESPONSES.setdefault(status.value, status.phrase.encode("ascii"))


def leave_form_parsing_to_django() -> None:
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:
        return
    if getattr(WebRequest, "_speaker_forms_left_to_django", False):
        return
    original_init = WebRequest.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._parsePOSTFormSubmission = False

    WebRequest.__init__ = __init__
    WebRequest._speaker_forms_left_to_django = True


def head_error_response(status: int) -> bytes:
    """The whole HTTP response for a request head over the limits (414 or 431)."""
    code, message = _HEAD_ERRORS[status]
    body = json.dumps(
        error_body(code, message.format(limit=HEAD_LIMIT_BYTES), {"limit_bytes": HEAD_LIMIT_BYTES})
    ).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _answer_oversized_head(channel: Any, status: int) -> None:
    from twisted.internet import reactor

    def ignore(*args: Any) -> None:
        return None

    # Whatever else the client sends is read and dropped (Twisted's own idiom for a
    # connection it has finished with), so the answer is not lost to a reset.
    channel.dataReceived = channel.lineReceived = ignore
    transport = channel.transport
    transport.write(head_error_response(status))
    if hasattr(transport, "loseWriteConnection"):
        transport.loseWriteConnection()
        reactor.callLater(_DRAIN_SECONDS, transport.abortConnection)
    else:
        transport.loseConnection()


def answer_oversized_request_heads() -> None:
    try:
        from twisted.web.http import HTTPChannel
    except ImportError:
        return
    if getattr(HTTPChannel, "_speaker_answers_oversized_heads", False):
        return
    original_line_received = HTTPChannel.lineReceived

    def is_request_line(channel: Any) -> bool:
        return bool(getattr(channel, "_HTTPChannel__first_line", 0))

    def lineLengthExceeded(self: Any, line: bytes) -> None:  # noqa: N802 (Twisted's name)
        _answer_oversized_head(self, 414 if is_request_line(self) else 431)

    def lineReceived(self: Any, line: bytes) -> None:  # noqa: N802
        if is_request_line(self):
            self._speaker_request_line_bytes = len(line)
        if self._receivedHeaderSize + len(line) > self.totalHeadersSize:
            request_line = getattr(self, "_speaker_request_line_bytes", 0)
            _answer_oversized_head(self, 414 if request_line > self.totalHeadersSize // 2 else 431)
            return None
        return original_line_received(self, line)

    HTTPChannel.MAX_LENGTH = HTTPChannel.totalHeadersSize = HEAD_LIMIT_BYTES
    HTTPChannel.lineLengthExceeded = lineLengthExceeded
    HTTPChannel.lineReceived = lineReceived
    HTTPChannel._speaker_answers_oversized_heads = True


def send_websocket_close_reasons() -> None:
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return
    if getattr(WebSocketProtocol, "_speaker_close_reasons", False):
        return
    original_handle_reply = WebSocketProtocol.handle_reply

    def handle_reply(self: Any, message: dict[str, Any]) -> None:
        if message.get("type") == "websocket.close" and message.get("reason") and self.state == self.STATE_OPEN:
            code = message.get("code")
            reason = str(message["reason"]).encode()[:123].decode(errors="ignore")  # a close frame's room
            self.sendClose(code=1000 if code is None else code, reason=reason)
            return
        original_handle_reply(self, message)

    WebSocketProtocol.handle_reply = handle_reply
    WebSocketProtocol._speaker_close_reasons = True


UNSENT_BYTES_EXTENSION = "speaker.unsent_bytes"


def _transport_unsent_bytes(protocol: Any) -> int:
    """Bytes written to the connection that the kernel has not taken yet: Twisted's
    FileDescriptor buffer (`dataBuffer` from `offset`, plus `_tempDataLen`), and under
    TLS the wrapper's own buffer of application data above it."""
    total, transport = 0, getattr(protocol, "transport", None)
    for _ in range(4):  # autobahn -> (TLS wrapper ->) TCP connection
        if transport is None:
            break
        buffer = getattr(transport, "dataBuffer", b"")
        total += max(0, len(buffer) - getattr(transport, "offset", 0)) + getattr(transport, "_tempDataLen", 0)
        total += sum(len(chunk) for chunk in getattr(transport, "_appSendBuffer", ()))
        transport = getattr(transport, "transport", None)
    return total


def unsent_bytes(scope: dict[str, Any]) -> int | None:
    """How many bytes this websocket's client has not read yet and the server holds;
    None when the server gives no such figure (not daphne)."""
    reader: Callable[[], int] | None = scope.get("extensions", {}).get(UNSENT_BYTES_EXTENSION)
    return None if reader is None else reader()


def report_unsent_websocket_bytes() -> None:
    try:
        from daphne.server import Server
    except ImportError:
        return
    if getattr(Server, "_speaker_unsent_bytes", False):
        return
    original_create_application = Server.create_application

    def create_application(self: Any, protocol: Any, scope: dict[str, Any]) -> Any:
        if scope.get("type") == "websocket":
            extensions = scope.setdefault("extensions", {})
            extensions[UNSENT_BYTES_EXTENSION] = partial(_transport_unsent_bytes, protocol)
        return original_create_application(self, protocol, scope)

    Server.create_application = create_application
    Server._speaker_unsent_bytes = True


def apply() -> None:
    complete_reason_phrases()
    leave_form_parsing_to_django()
    answer_oversized_request_heads()
    send_websocket_close_reasons()
    report_unsent_websocket_bytes()
