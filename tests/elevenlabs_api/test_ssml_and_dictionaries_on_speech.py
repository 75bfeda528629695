"""POST /v1/text-to-speech/{voice_id}: `enable_ssml_parsing` reads the text as SSML and
`pronunciation_dictionary_locators` name the dictionaries; what is refused is refused
before any job, in ElevenLabs' error shape."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from pronunciation.services import dictionary_create
from speech.pronunciation import Rule
from synthesis.models import SynthesisJob
from tests.elevenlabs_api.conftest import error_of
from voices.models import Voice

pytestmark = pytest.mark.django_db


def drain(response) -> bytes:  # type: ignore[no-untyped-def]
    """Read a streamed response to its end, so that the stream's concurrency slot is
    given back (closing it unread leaves the slot to the next test)."""
    if not response.is_async:
        return b"".join(response.streaming_content)

    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(read)()


@pytest.fixture(autouse=True)
def _piper(piper_only):  # type: ignore[no-untyped-def]
    yield


def joe() -> str:
    return str(Voice.objects.get(owner=None, name="joe").pk)


def test_malformed_ssml_is_a_400_pointing_at_its_line_and_column(owner_xi):
    body = {"text": "<speak>\n<p>Hi</s></speak>", "enable_ssml_parsing": True}
    response = owner_xi.post_json(f"/v1/text-to-speech/{joe()}", body)
    assert response.status_code == 400 and "line 2, column 8" in error_of(response)["message"]
    assert not SynthesisJob.objects.exists()


def test_enable_ssml_parsing_must_be_a_boolean(owner_xi):
    response = owner_xi.post_json(f"/v1/text-to-speech/{joe()}", {"text": "Hi", "enable_ssml_parsing": "yes"})
    assert response.status_code == 400 and "enable_ssml_parsing" in error_of(response)["message"]


@pytest.mark.django_db(transaction=True)  # the stream runs in a thread of its own: it must see the job
def test_a_ssml_document_and_a_dictionary_reach_the_job(owner_xi, owner, settings):
    settings.EMBEDDED_WORKER = True  # streams served in-process (with Redis, workers are separate by default)
    names = dictionary_create(owner=owner, name="Names", rules=[Rule("TTS", alias="text to speech")])
    body = {
        "text": '<speak>TTS <break time="1s"/> works.</speak>',
        "enable_ssml_parsing": True,
        "pronunciation_dictionary_locators": [{"pronunciation_dictionary_id": str(names.pk), "version_id": None}],
    }
    response = owner_xi.post_json(f"/v1/text-to-speech/{joe()}", body)
    assert response.status_code == 200
    drain(response)
    job = SynthesisJob.objects.get()
    assert job.text_format == "ssml" and job.lexicon[0]["alias"] == "text to speech"


def test_another_accounts_dictionary_is_404(owner_xi, outsider):
    theirs = dictionary_create(owner=outsider, name="Theirs", rules=[Rule("TTS", alias="t")])
    body = {"text": "TTS", "pronunciation_dictionary_locators": [{"pronunciation_dictionary_id": str(theirs.pk)}]}
    response = owner_xi.post_json(f"/v1/text-to-speech/{joe()}", body)
    assert response.status_code == 404
    assert not SynthesisJob.objects.exists()
