"""A production names its pronunciation dictionaries once, for all its segments: each
segment job keeps the rules its text uses, a regenerated segment too; the account's
default applies when it names none."""

from __future__ import annotations

import pytest

from pronunciation.services import dictionary_create
from speech.pronunciation import Rule
from synthesis.models import SynthesisJob

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

BOOK = """# One
The TTS engine reads. Nothing else here.

# Two
Plain words only. Then a Speaker appears.
"""


@pytest.fixture
def names(owner):  # type: ignore[no-untyped-def]
    return dictionary_create(
        owner=owner,
        name="Names",
        rules=[Rule("TTS", alias="text to speech"), Rule("Speaker", phoneme="S P IY1 K ER0", alphabet="cmu-arpabet")],
    )


def lexicons() -> dict[str, list[str]]:
    jobs = SynthesisJob.objects.filter(mode=SynthesisJob.Mode.SEGMENT)
    return {job.text: [rule["string_to_replace"] for rule in job.lexicon] for job in jobs}


def test_every_segment_job_keeps_the_rules_its_text_uses(post_production, names):
    locator = {"pronunciation_dictionary_id": str(names.pk)}
    response = post_production(BOOK, pronunciation_dictionary_locators=[locator])
    assert response.status_code == 202, response.json()
    assert lexicons() == {
        "The TTS engine reads. Nothing else here.": ["TTS"],
        "Plain words only. Then a Speaker appears.": ["Speaker"],
    }


def test_a_regenerated_segment_keeps_the_productions_rules(post_production, names, owner_api):
    body = post_production(BOOK, pronunciation_dictionary_locators=[{"pronunciation_dictionary_id": str(names.pk)}])
    production = body.json()["id"]
    response = owner_api.post(
        f"/api/v1/productions/{production}/segments/2/regenerate", {"text": "Now TTS is here."}, format="json"
    )
    assert response.status_code == 202, response.json()
    assert lexicons()["Now TTS is here."] == ["TTS"]


def test_the_accounts_default_dictionary_applies_when_none_is_named(post_production, owner):
    dictionary_create(owner=owner, name="Default", rules=[Rule("TTS", alias="text to speech")], is_default=True)
    assert post_production(BOOK).status_code == 202
    assert lexicons()["The TTS engine reads. Nothing else here."] == ["TTS"]


def test_another_accounts_dictionary_is_a_404(post_production, outsider):
    theirs = dictionary_create(owner=outsider, name="Theirs", rules=[Rule("TTS", alias="t")])
    locator = {"pronunciation_dictionary_id": str(theirs.pk)}
    response = post_production(BOOK, pronunciation_dictionary_locators=[locator])
    assert response.status_code == 404
