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

3. Websocket close reasons. A consumer closes with a code and a reason (ASGI
   `websocket.close` carries both), but daphne handed Autobahn the code alone, so a
   refused socket's client never read why. The reason now travels in the close frame.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


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


def apply() -> None:
    complete_reason_phrases()
    leave_form_parsing_to_django()
    send_websocket_close_reasons()
