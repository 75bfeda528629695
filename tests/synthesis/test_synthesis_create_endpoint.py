"""POST /api/v1/synthesis: validation, idempotency, queueing."""

from __future__ import annotations

import pytest

from synthesis.models import SynthesisJob

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def test_it_queues_a_job_and_answers_202_with_its_urls(post_job):
    response = post_job("(happy) Hello world, how are you?", format="mp3")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["format"] == "mp3" and body["voice"] == "joe"
    assert body["word_count"] == 5 and body["urls"]["self"] == f"/api/v1/synthesis/{body['id']}"
    assert SynthesisJob.objects.get(pk=body["id"]).engine == "piper"


def test_the_same_idempotency_key_and_body_return_the_same_job(post_job):
    first = post_job("Once only.", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = post_job("Once only.", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == 202 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert SynthesisJob.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_409(post_job):
    post_job("Once only.", HTTP_IDEMPOTENCY_KEY="abc-2")
    response = post_job("Something else.", HTTP_IDEMPOTENCY_KEY="abc-2")
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


def test_text_over_the_limit_is_400_naming_the_limit(post_job, settings):
    settings.MAX_TEXT_LENGTH = 20
    response = post_job("x" * 21)
    assert response.status_code == 400
    assert "20" in response.json()["error"]["message"] and response.json()["error"]["details"]["limit"] == 20


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "(happy) (sad)"}, "text"),
        ({"language": "xx"}, "language"),
        ({"params": {"speed": 0}}, "speed"),
        ({"params": {"temperature": 10}}, "temperature"),
        ({"params": {"loudness": 3}}, "loudness"),
        ({"format": "aiff"}, "format"),
    ],
)
def test_bad_input_is_400_naming_the_field(post_job, body, field):
    payload = {"text": "Hello there.", **body}
    response = post_job(**payload)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in str(error["details"]) or field in error["message"]


def test_an_unknown_voice_is_404(post_job):
    assert post_job(voice="nobody-has-this-voice").status_code == 404


def test_it_needs_the_synthesis_scope(owner, api_for):
    reader = api_for(owner, ["voices:read"])
    assert reader.post("/api/v1/synthesis", {"text": "hi", "voice": "joe"}, format="json").status_code == 403


def test_job_creation_is_audited(post_job):
    from monitoring.models import AuditEvent

    job_id = post_job().json()["id"]
    assert AuditEvent.objects.filter(action="job.created", target_id=job_id).exists()
