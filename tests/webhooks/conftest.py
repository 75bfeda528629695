"""A real webhook receiver on 127.0.0.1 (the one place loopback is allowed, through
WEBHOOK_ALLOWED_HOSTS) that verifies every request with the `standardwebhooks`
library, the way a customer's server would; and a mock clock, named as such, that lets
a test move time past a retry's backoff instead of waiting for it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts.models import User
from webhooks.services import endpoint_create


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Answer:
    """What the receiver does with one request: a status and body, a redirect, or a hang."""

    status: int = 200
    body: bytes = b"ok"
    hang_seconds: float = 0.0
    location: str = ""


@dataclass
class Receiver:
    port: int
    secrets: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)  # consumed in order; then 200
    arrived: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    def events(self) -> list[str]:
        return [r.json["type"] for r in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            receiver.received.append(Received(headers=headers, body=body, verified=receiver.verify(body, headers)))
            receiver.arrived.set()
            answer = receiver.answers.pop(0) if receiver.answers else Answer()
            if answer.hang_seconds:
                time.sleep(answer.hang_seconds)
            try:
                self.send_response(answer.status)
                if answer.location:
                    self.send_header("Location", answer.location)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender stopped reading (a capped body, a timeout): as it should

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:  # type: ignore[no-untyped-def]
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    rec = Receiver(port=server.server_address[1])
    server.RequestHandlerClass = _handler(rec)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


class MockClock:
    """A mock clock: `now()` stays where the test puts it, so a retry due in five
    seconds is reached by `advance(seconds=6)`, not by sleeping."""

    def __init__(self) -> None:
        self.moment: datetime = timezone.now()

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def mock_clock() -> MockClock:
    return MockClock()


@pytest.fixture
def subscribe(receiver: Receiver) -> Callable[..., Any]:
    """An endpoint of `user` on the receiver, its secret known to the receiver."""

    def _subscribe(user: User, events: list[str], path: str = "/hook"):  # type: ignore[no-untyped-def]
        created = endpoint_create(owner=user, url=receiver.url(path), events=events)
        receiver.secrets.append(created.secret)
        return created.endpoint

    return _subscribe
