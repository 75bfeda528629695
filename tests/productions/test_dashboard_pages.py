"""The dashboard's production pages: the list with its create form, one production's page;
another user's production is a 404."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_list_offers_the_create_form_and_lists_the_owners_productions(owner, post_production):
    body = post_production().json()
    page = _client(owner).get("/productions/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-production-form" in html and 'name="voice"' in html and 'type="file"' in html
    assert f"/productions/{body['id']}/" in html and "A book" in html


def test_a_production_page_shows_its_progress_and_downloads(owner, post_production):
    body = post_production().json()
    html = _client(owner).get(f"/productions/{body['id']}/").content.decode()
    assert f'data-production="{body["id"]}"' in html
    assert "The first chapter" in html and "format=m4b" in html and "js/productions.js" in html


def test_another_users_production_page_is_a_404(outsider, post_production):
    body = post_production().json()
    assert _client(outsider).get(f"/productions/{body['id']}/").status_code == 404
    assert body["title"] not in _client(outsider).get("/productions/").content.decode()
