"""Pronunciation dictionaries and markup on the synthesis routes: a job keeps the rules
that occur in its text (its own dictionaries, else the account's default), its text
format and a status note; bad locators and bad markup are refused before any job."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from pronunciation.services import dictionary_create
from speech.pronunciation import Rule
from synthesis.models import SynthesisJob

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def drain(response) -> bytes:  # type: ignore[no-untyped-def]
    """Read a streamed response to its end, so that the stream's concurrency slot is
    given back (closing it unread leaves the slot to the next test)."""
    if not response.is_async:
        return b"".join(response.streaming_content)

    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(read)()


TEXT = "TTS makes speech. Speaker reads TTS aloud."


@pytest.fixture
def names(owner):  # type: ignore[no-untyped-def]
    return dictionary_create(
        owner=owner,
        name="Names",
        rules=[Rule("TTS", alias="text to speech"), Rule("unused", alias="never said")],
    )


def locator(dictionary, version=None) -> dict:  # type: ignore[no-untyped-def]
    out = {"pronunciation_dictionary_id": str(dictionary.pk)}
    if version is not None:
        out["version_id"] = str(version)
    return out


def test_a_job_keeps_the_rules_of_its_dictionaries_that_its_text_uses(post_job, names):
    response = post_job(TEXT, pronunciation_dictionary_locators=[locator(names, names.latest_version_id)])
    assert response.status_code == 202, response.json()
    job = SynthesisJob.objects.get(pk=response.json()["id"])
    assert job.lexicon == [{"string_to_replace": "TTS", "type": "alias", "alias": "text to speech"}]


def test_the_accounts_default_dictionary_applies_when_a_request_names_none(post_job, owner):
    dictionary_create(owner=owner, name="Default", rules=[Rule("TTS", alias="text to speech")], is_default=True)
    job = SynthesisJob.objects.get(pk=post_job(TEXT).json()["id"])
    assert job.lexicon[0]["alias"] == "text to speech"


def test_a_finished_job_is_timed_with_the_words_as_written(post_job, names, run_worker, owner_api):
    job_id = post_job(TEXT, pronunciation_dictionary_locators=[locator(names)]).json()["id"]
    run_worker()
    words = [w["text"] for w in owner_api.get(f"/api/v1/synthesis/{job_id}/timings").json()["words"]]
    assert words == ["TTS", "makes", "speech.", "Speaker", "reads", "TTS", "aloud."]


def test_an_empty_list_of_locators_means_no_rules_not_the_default(post_job, owner):
    dictionary_create(owner=owner, name="Default", rules=[Rule("TTS", alias="text to speech")], is_default=True)
    job = SynthesisJob.objects.get(pk=post_job(TEXT, pronunciation_dictionary_locators=[]).json()["id"])
    assert job.lexicon == []


def test_more_than_three_locators_is_a_400(post_job, names):
    response = post_job(TEXT, pronunciation_dictionary_locators=[locator(names)] * 4)
    assert response.status_code == 400
    assert "pronunciation_dictionary_locators" in response.json()["error"]["details"]


def test_another_accounts_dictionary_is_a_404_as_if_missing(post_job, outsider):
    theirs = dictionary_create(owner=outsider, name="Theirs", rules=[Rule("TTS", alias="t")])
    response = post_job(TEXT, pronunciation_dictionary_locators=[locator(theirs)])
    assert response.status_code == 404
    assert not SynthesisJob.objects.exists()


def test_a_version_that_does_not_exist_is_a_404(post_job, names):
    response = post_job(
        TEXT, pronunciation_dictionary_locators=[locator(names, "3fa85f64-5717-4562-b3fc-2c963f66afa6")]
    )
    assert response.status_code == 404


def test_an_ssml_document_is_spoken_and_counted_without_its_tags(post_job):
    ssml = '<speak><p>Hello <break time="500ms"/> there.</p></speak>'
    body = post_job(ssml, text_format="ssml").json()
    assert body["text_format"] == "ssml" and body["character_count"] == len("Hello there.")


def test_malformed_ssml_is_a_400_with_its_line_and_column(post_job):
    response = post_job("<speak>\n<p>Hello</s>\n</speak>", text_format="ssml")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]["line"] == 2 and error["details"]["column"] == 11  # the "s" of "</s>"
    assert "line 2, column 11" in error["message"]


def test_markup_nested_a_thousand_deep_is_a_400(post_job, settings):
    settings.MAX_TEXT_LENGTH = 10_000  # a server that takes long texts: the depth is refused, not the length
    deep = "<speak>" + "<s>" * 1000 + "deep" + "</s>" * 1000 + "</speak>"
    response = post_job(deep, text_format="ssml")
    assert response.status_code == 400 and "nested" in response.json()["error"]["message"]


def test_a_huge_break_is_capped_and_the_job_says_so(post_job):
    body = post_job('Wait <break time="999999s"/> for it.').json()
    assert "capped to 10 s" in body["status_note"]


@pytest.mark.django_db(transaction=True)  # the stream runs in a thread of its own: it must see the job
def test_the_openai_route_speaks_with_the_default_dictionary(owner, make_key, settings):
    settings.EMBEDDED_WORKER = True  # streams served in-process (with Redis, workers are separate by default)
    dictionary_create(owner=owner, name="Default", rules=[Rule("TTS", alias="text to speech")], is_default=True)
    client = Client()
    response = client.post(
        "/v1/audio/speech",
        {"model": "tts-1", "input": TEXT, "voice": "alloy", "response_format": "wav"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {make_key(owner)}",
    )
    assert response.status_code == 200
    drain(response)
    assert SynthesisJob.objects.get().lexicon[0]["string_to_replace"] == "TTS"


@pytest.mark.django_db(transaction=True)  # the stream runs in a thread of its own: it must see the job
def test_a_stream_says_its_capped_break_in_a_header(owner_api, settings):
    settings.EMBEDDED_WORKER = True  # streams served in-process (with Redis, workers are separate by default)
    response = owner_api.post(
        "/api/v1/synthesis/stream",
        {"text": 'Wait <break time="999999s"/> for it.', "voice": "joe", "format": "wav"},
        format="json",
    )
    assert response.status_code == 200
    assert "capped to 10 s" in response["X-Status-Note"]
    drain(response)
