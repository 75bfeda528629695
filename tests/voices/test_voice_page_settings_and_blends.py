"""The dashboard's voice page: the voice's default settings (shown, edited through
PATCH /api/v1/voices/{id} by static/js/voice-detail.js) and where a blend came from."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from voices.models import Voice

pytestmark = pytest.mark.usefixtures("piper_only_engines")


@pytest.fixture
def owner_browser(owner) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    return client


def test_the_page_shows_each_default_setting_with_its_range_and_value(owner_browser, owner) -> None:
    voice = Voice.objects.create(
        owner=owner, name="Grandma", language="en", engine="xtts", status="ready", settings={"speed": 1.2}
    )

    page = owner_browser.get(f"/voices/{voice.pk}/").content.decode()

    assert "data-voice-settings-form" in page
    assert 'name="settings.speed"' in page and 'value="1.2"' in page
    assert 'name="settings.temperature"' in page and 'placeholder="0.75"' in page and 'min="0.01"' in page
    assert 'data-error-for="settings.top_k"' in page


def test_a_builtin_voices_page_has_no_settings_form(owner_browser) -> None:
    joe = Voice.objects.get(is_builtin=True, builtin_key="joe")

    page = owner_browser.get(f"/voices/{joe.pk}/").content.decode()

    assert "data-voice-settings-form" not in page


def test_a_blended_voice_shows_its_sources_even_once_deleted(owner_browser, owner) -> None:
    kept = Voice.objects.create(owner=owner, name="Alma", language="en", engine="xtts", status="ready")
    gone = str(uuid.uuid4())
    blend = Voice.objects.create(
        owner=owner,
        name="Duet",
        language="en",
        engine="xtts",
        status="ready",
        blended_from=[
            {"voice_id": str(kept.pk), "name": "Alma", "builtin": False, "weight": 0.75, "consent_record_ids": []},
            {"voice_id": gone, "name": "Bruno", "builtin": False, "weight": 0.25, "consent_record_ids": []},
        ],
    )

    page = owner_browser.get(f"/voices/{blend.pk}/").content.decode()

    assert "Blended from" in page
    assert f'href="/voices/{kept.pk}/"' in page and "75%" in page
    assert "Bruno" in page and "25%" in page and "deleted since" in page
    assert "data-add-samples-form" not in page  # a blend takes no samples
