"""The dashboard's Pronunciation page: the owner's dictionaries with their rules, the
forms that edit them through the API, and the "hear a word" form; nobody else's."""

from __future__ import annotations

import pytest
from django.test import Client

from pronunciation.services import dictionary_create
from speech.pronunciation import Rule

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_page_lists_the_owners_dictionaries_and_their_rules(owner, outsider):
    mine = dictionary_create(
        owner=owner, name="Product names", rules=[Rule("TTS", alias="text to speech")], is_default=True
    )
    dictionary_create(owner=outsider, name="Their secrets", rules=[Rule("XYZ", alias="nope")])
    html = _client(owner).get("/pronunciation/").content.decode()
    assert "Product names" in html and "text to speech" in html and f'data-dictionary="{mine.pk}"' in html
    assert "Their secrets" not in html
    assert "data-hear-form" in html and "data-add-rule" in html and "js/pronunciation.js" in html
    # A rule's errors have a place next to each of its fields (filled by the page's script).
    for field in ("string_to_replace", "kind", "said"):
        assert f'data-error-for="{field}"' in html
    assert 'data-hear-audio="none"' in html and 'data-hear-audio="dictionary"' in html
    assert 'aria-current="page">Pronunciation</a>' in html


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get("/pronunciation/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
