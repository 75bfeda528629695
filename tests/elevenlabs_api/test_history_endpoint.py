"""GET /v1/history, GET/DELETE /v1/history/{id}, GET /v1/history/{id}/audio: the caller's
Speaker jobs as ElevenLabs history items; another user's item is a 404."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
import soundfile as sf
from django.utils import timezone

from synthesis.models import SynthesisJob
from tests.elevenlabs_api.conftest import error_of


def make_job(user, text="Hello there.", minutes_ago=0, **fields):  # type: ignore[no-untyped-def]
    job = SynthesisJob.objects.create(
        owner=user,
        voice_name="joe",
        voice_builtin=True,
        engine="piper",
        language="en",
        text=text,
        character_count=len(text),
        status=fields.pop("status", SynthesisJob.Status.FAILED),
        **fields,
    )
    SynthesisJob.objects.filter(pk=job.pk).update(queued_at=timezone.now() - timedelta(minutes=minutes_ago))
    job.refresh_from_db()
    return job


def test_it_lists_my_jobs_newest_first_in_elevenlabs_shape(owner_xi, owner, outsider):
    old, new = make_job(owner, "Old one.", 10), make_job(owner, "New one.", 1)
    make_job(outsider, "Not mine.")
    page = owner_xi.get("/v1/history").json()
    assert [item["history_item_id"] for item in page["history"]] == [str(new.pk), str(old.pk)]
    item = page["history"][0]
    assert item["text"] == "New one." and item["voice_name"] == "joe" and item["model_id"] == "piper"
    assert item["character_count_change_to"] == len("New one.") and item["date_unix"] > 0
    assert page["has_more"] is False and page["last_history_item_id"] == str(old.pk)


def test_pages_follow_start_after_history_item_id(owner_xi, owner):
    jobs = [make_job(owner, f"Job {i}.", 10 - i) for i in range(5)]  # jobs[4] newest
    first = owner_xi.get("/v1/history", {"page_size": 2}).json()
    assert first["has_more"] is True and len(first["history"]) == 2
    second = owner_xi.get(
        "/v1/history", {"page_size": 2, "start_after_history_item_id": first["last_history_item_id"]}
    ).json()
    third = owner_xi.get(
        "/v1/history", {"page_size": 2, "start_after_history_item_id": second["last_history_item_id"]}
    ).json()
    ids = [i["history_item_id"] for p in (first, second, third) for i in p["history"]]
    assert ids == [str(j.pk) for j in reversed(jobs)] and third["has_more"] is False


def test_filters_search_and_dates(owner_xi, owner):
    make_job(owner, "About cats.", 60 * 24 * 2)
    make_job(owner, "About dogs.", 1)
    assert [i["text"] for i in owner_xi.get("/v1/history", {"search": "cats"}).json()["history"]] == ["About cats."]
    yesterday = int((timezone.now() - timedelta(days=1)).timestamp())
    assert [i["text"] for i in owner_xi.get("/v1/history", {"date_after_unix": yesterday}).json()["history"]] == [
        "About dogs."
    ]
    assert [i["text"] for i in owner_xi.get("/v1/history", {"sort_direction": "asc"}).json()["history"]] == [
        "About cats.",
        "About dogs.",
    ]


@pytest.mark.parametrize(
    "params", [{"page_size": 0}, {"page_size": 1001}, {"sort_direction": "up"}, {"date_before_unix": "soon"}]
)
def test_bad_parameters_are_400(owner_xi, params):
    assert owner_xi.get("/v1/history", params).status_code == 400


def test_one_item(owner_xi, owner):
    job = make_job(owner)
    assert owner_xi.get(f"/v1/history/{job.pk}").json()["history_item_id"] == str(job.pk)


@pytest.mark.parametrize("method", ["get", "delete"])
def test_another_users_item_is_404(owner_xi, outsider, method):
    job = make_job(outsider)
    response = getattr(owner_xi, method)(f"/v1/history/{job.pk}")
    assert response.status_code == 404 and error_of(response)["status"] == "not_found"
    assert SynthesisJob.objects.filter(pk=job.pk).exists()


@pytest.mark.parametrize("item", ["nope", str(uuid.uuid4())])
def test_an_unknown_item_is_404(owner_xi, item):
    assert owner_xi.get(f"/v1/history/{item}").status_code == 404


def test_deleting_an_item_deletes_the_job(owner_xi, owner):
    job = make_job(owner)
    response = owner_xi.delete(f"/v1/history/{job.pk}")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert not SynthesisJob.objects.filter(pk=job.pk).exists()


def test_audio_of_an_unfinished_item_is_409(owner_xi, owner):
    job = make_job(owner, status=SynthesisJob.Status.QUEUED)
    response = owner_xi.get(f"/v1/history/{job.pk}/audio")
    assert response.status_code == 409 and "queued" in error_of(response)["message"]


def test_the_audio_of_a_finished_generation_is_mp3(owner_xi, owner, run_worker):
    response = owner_xi.client.post(
        "/api/v1/synthesis",
        {"text": "A finished job.", "voice": "joe"},
        content_type="application/json",
        HTTP_XI_API_KEY=owner_xi.key,
    )
    assert response.status_code == 202, response.json()
    run_worker()
    audio = owner_xi.get(f"/v1/history/{response.json()['id']}/audio")
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/mpeg"
    pcm, rate = sf.read(io.BytesIO(b"".join(audio.streaming_content)), dtype="float32")
    assert pcm.size / rate > 0.5
