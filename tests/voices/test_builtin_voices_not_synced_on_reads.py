"""The built-in voices are synced when a process starts, never on a read: no GET (and no
voice lookup for a synthesis request) writes, even when the catalogue's rows are missing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext

from voices.models import Voice
from voices.selectors import voice_resolve_for_synthesis

WRITES = ("INSERT", "UPDATE", "DELETE")


def writes_in(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]


@pytest.fixture
def catalogue_rows_lost(piper_only, db) -> None:  # type: ignore[no-untyped-def]
    """The state in which the old read paths synced (and wrote): no built-in rows."""
    Voice.objects.filter(is_builtin=True).delete()


@pytest.fixture
def owner_browser(owner) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    return client


@pytest.mark.parametrize("url", ["/api/v1/voices", "/v1/audio/voices", "/v1/models"])
def test_an_api_listing_does_not_write(catalogue_rows_lost, owner_api, url: str) -> None:
    owner_api.get("/api/v1/me")  # the key's last_used_at is written at most once a minute: done now

    with CaptureQueriesContext(connection) as queries:
        response = owner_api.get(url)

    assert response.status_code == 200
    assert writes_in(queries) == []
    assert not Voice.objects.filter(is_builtin=True).exists()


@pytest.mark.parametrize("url", ["/voices/", "/generate/"])
def test_a_dashboard_page_does_not_write(catalogue_rows_lost, owner_browser, url: str) -> None:
    owner_browser.get(url)  # the first page view may save the session

    with CaptureQueriesContext(connection) as queries:
        response = owner_browser.get(url)

    assert response.status_code == 200
    assert writes_in(queries) == []
    assert not Voice.objects.filter(is_builtin=True).exists()


@pytest.mark.parametrize("ref", ["joe", "jeo", ""])
def test_resolving_a_synthesis_voice_does_not_write(catalogue_rows_lost, owner, ref: str) -> None:
    with CaptureQueriesContext(connection) as queries, pytest.raises(Http404):
        voice_resolve_for_synthesis(user=owner, ref=ref)

    assert writes_in(queries) == []
    assert not Voice.objects.filter(is_builtin=True).exists()
