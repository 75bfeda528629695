"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 (a free port), keeping every
message it receives, so that a test reads the mail Speaker sent and follows its links."""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.live import free_port

LINK = re.compile(r"https?://[^\s<>\"]+")


@dataclass
class Received:
    to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.text)


@dataclass
class MailServer:
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.received.append(Received(to=list(envelope.rcpt_tos), message=message))  # type: ignore[arg-type]
        return "250 OK"

    def start(self) -> MailServer:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [mail for mail in self.received if address.lower() in (to.lower() for to in mail.to)]

    def wait_for(self, address: str, subject: str = "", timeout: float = 15.0, after: int = 0) -> Received:
        """The first message to `address` (past the first `after` of them) whose subject
        holds `subject`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            found = [mail for mail in self.to(address)[after:] if subject.lower() in mail.subject.lower()]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                subjects = [(m.to, m.subject) for m in self.received]
                raise AssertionError(f"no mail to {address} about {subject!r} in {timeout}s; received: {subjects}")
            time.sleep(0.05)
