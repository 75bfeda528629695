"""The dashboard's "Blend voices" page (/voices/blend/): which voices it offers, and what
it says where XTTS cannot run in the web process. Its form and errors: tests/browser/
test_blend_form.py."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from voices.models import Voice


@pytest.fixture
def owner_browser(owner) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    return client


def options(page: str) -> list[str]:
    return re.findall(r'<option value="([0-9a-f-]{36})"', page)


@pytest.mark.usefixtures("tiny_xtts_engines")
def test_it_offers_your_ready_xtts_voices_and_the_builtin_speakers_only(owner_browser, owner, outsider) -> None:
    ready = Voice.objects.create(
        owner=owner, name="Alma", language="en", engine="xtts", status="ready", conditioning=b"x"
    )
    waiting = Voice.objects.create(owner=owner, name="Waiting", language="en", engine="xtts", status="processing")
    theirs = Voice.objects.create(
        owner=outsider, name="Theirs", language="en", engine="xtts", status="ready", conditioning=b"x"
    )
    piper_joe = Voice.objects.get(is_builtin=True, builtin_key="joe")
    speakers = set(Voice.objects.filter(is_builtin=True, engine="xtts").values_list("pk", flat=True))

    page = owner_browser.get("/voices/blend/").content.decode()
    offered = options(page)

    assert "data-blend-form" in page
    assert offered.count(str(ready.pk)) == 4  # once per row
    assert {str(pk) for pk in speakers} <= set(offered) and speakers
    assert not {str(waiting.pk), str(theirs.pk), str(piper_joe.pk)} & set(offered)
    assert 'data-error-for="sources.3.weight"' in page and 'aria-live="polite"' in page


@pytest.mark.usefixtures("tiny_xtts_engines")
def test_a_ready_xtts_voices_page_links_to_the_form_with_it_chosen(owner_browser, owner) -> None:
    alma = Voice.objects.create(
        owner=owner, name="Alma", language="en", engine="xtts", status="ready", conditioning=b"x"
    )

    voice_page = owner_browser.get(f"/voices/{alma.pk}/").content.decode()
    form = owner_browser.get(f"/voices/blend/?voice={alma.pk}").content.decode()

    assert f'href="/voices/blend/?voice={alma.pk}"' in voice_page
    assert f'<option value="{alma.pk}" selected>' in form


@pytest.mark.usefixtures("piper_only_engines")
def test_without_xtts_it_says_so_and_offers_no_form(owner_browser, owner) -> None:
    alma = Voice.objects.create(owner=owner, name="Alma", language="en", engine="xtts", status="pending_engine")

    page = owner_browser.get("/voices/blend/").content.decode()

    assert "needs the XTTS engine, which is not installed on this server" in page
    assert "data-blend-form" not in page
    assert "/voices/blend/" not in owner_browser.get(f"/voices/{alma.pk}/").content.decode()
