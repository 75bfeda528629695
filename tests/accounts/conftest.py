"""Account tests send their email through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mail import MailServer


@pytest.fixture
def mailbox(settings) -> Iterator[MailServer]:  # type: ignore[no-untyped-def]
    server = MailServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    yield server
    server.stop()
