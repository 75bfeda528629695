"""OpenAI-compatible API fixtures: real speech for consent recordings and samples (the
voice tests' Piper speech, cached per session) and Bearer clients for the personas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from tests.conftest_engines import piper_engine  # noqa: F401 - a fixture the speech fixtures use
from tests.voices.conftest import (  # noqa: F401 - fixtures registered here
    other_speech,
    other_upload,
    piper_only_engines,
    piper_speech,
    piper_speech_wav,
    speech_upload,
)


class BearerClient:
    """A Django test client that sends `Authorization: Bearer <key>`, as the openai SDK does."""

    def __init__(self, key: str) -> None:
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def get(self, path: str, data: Any = None) -> Any:
        return self.client.get(path, data, **self.headers)

    def delete(self, path: str) -> Any:
        return self.client.delete(path, **self.headers)

    def post_form(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(path, data, **self.headers)

    def post_json(self, path: str, body: Any) -> Any:
        return self.client.post(path, body, content_type="application/json", **self.headers)


@pytest.fixture
def bearer_for(make_key) -> Callable[..., BearerClient]:  # type: ignore[no-untyped-def]
    def _make(user: User, scopes: list[str] | None = None) -> BearerClient:
        return BearerClient(make_key(user, scopes))

    return _make


@pytest.fixture
def owner_openai(owner: User, bearer_for) -> BearerClient:  # type: ignore[no-untyped-def]
    return bearer_for(owner)


@pytest.fixture
def outsider_openai(outsider: User, bearer_for) -> BearerClient:  # type: ignore[no-untyped-def]
    return bearer_for(outsider)
