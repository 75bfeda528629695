"""/api/v1/account/exports: "Download my data". The export is built by the engine
worker's sweep, holds everything of the account (and only of it), is downloadable by its
owner alone, and is deleted after 24 hours."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from engine_host.worker import EngineWorker
from monitoring.models import AuditEvent
from privacy.exports import export_claim_next
from privacy.models import DataExport
from tests.privacy.conftest import media_files

EXPORTS = "/api/v1/account/exports"


def download(client, export_id):  # type: ignore[no-untyped-def]
    return client.get(f"{EXPORTS}/{export_id}/download")


def zip_of(response) -> zipfile.ZipFile:  # type: ignore[no-untyped-def]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_export_holds_everything_of_the_account_and_only_of_it(owner, outsider, fill, api_for):
    fill(outsider, name="Oscar Voice", text="Oscar sings about lighthouses.", other_sample=True)
    olivias = fill(owner, name="Olivia Voice", text="Olivia whispers her plum-coloured secret.")
    client = api_for(owner)
    export = client.get(f"{EXPORTS}/{olivias.export_ids[0]}").json()
    assert export["status"] == "ready" and export["download_url"].endswith("/download")
    assert (
        timedelta(hours=23, minutes=59)
        < (
            timezone.datetime.fromisoformat(export["expires_at"])
            - timezone.datetime.fromisoformat(export["finished_at"])
        )
        <= timedelta(hours=24)
    )

    response = download(client, export["id"])

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zip_of(response)
    names = set(archive.namelist())
    assert {"README.txt", "profile.json", "voices.json", "consent.json", "history.json"} <= names
    assert {"productions.json", "usage.json"} <= names
    profile = json.loads(archive.read("profile.json"))
    assert (profile["username"], profile["email"]) == ("olivia", "olivia@example.com")
    assert "secret_hash" not in json.dumps(profile) and profile["api_keys"][0]["prefix"]
    voices = json.loads(archive.read("voices.json"))
    assert [v["name"] for v in voices] == ["Olivia Voice"]
    sample = voices[0]["samples"][0]
    assert archive.read(sample["file"])[:4] == b"RIFF"
    consent = json.loads(archive.read("consent.json"))
    assert consent["consent_records"][0]["sample_sha256"] == [sample["sha256_as_uploaded"]]
    assert len(consent["cloning_attestations"]) == 1
    (recording,) = consent["consent_recordings"]
    assert recording["name"] == "Olivia Voice consent" and archive.read(recording["file"])[:4] == b"RIFF"
    history = json.loads(archive.read("history.json"))
    assert sorted(job["id"] for job in history) == sorted(olivias.job_ids)
    assert all(archive.read(job["audio_file"])[:4] == b"RIFF" for job in history)
    productions = json.loads(archive.read("productions.json"))
    assert [p["title"] for p in productions] == ["Olivia Voice book"] and productions[0]["chapters"]
    assert len(json.loads(archive.read("usage.json"))) == 3  # two jobs and the production
    everything = b"".join(archive.read(name) for name in names).lower()
    assert b"oscar" not in everything and b"lighthouse" not in everything
    assert AuditEvent.objects.filter(action="data_export.downloaded", user=owner).count() == 1


def test_audio_is_left_out_unless_asked_for(owner, api_for, run_worker):
    client = api_for(owner)
    client.post("/api/v1/synthesis", {"text": "Hello there.", "voice": "joe"}, format="json")
    run_worker()
    export_id = client.post(EXPORTS, {}, format="json").json()["id"]
    run_worker()
    archive = zip_of(download(client, export_id))
    assert not [name for name in archive.namelist() if name.startswith("audio/")]
    assert json.loads(archive.read("history.json"))[0]["audio_file"] is None


def test_another_users_export_is_not_found(owner, outsider, api_for, run_worker):
    export_id = api_for(owner).post(EXPORTS, {}, format="json").json()["id"]
    run_worker()
    outsider_client = api_for(outsider)
    for response in (outsider_client.get(f"{EXPORTS}/{export_id}"), download(outsider_client, export_id)):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert outsider_client.get(EXPORTS).json() == []


def test_an_export_not_built_yet_is_a_409_and_a_second_one_waits(owner, api_for, transactional_db):
    client = api_for(owner)
    export_id = client.post(EXPORTS, {}, format="json").json()["id"]
    response = download(client, export_id)
    assert response.status_code == 409 and response.json()["error"]["details"] == {"status": "queued"}
    again = client.post(EXPORTS, {"include_audio": True}, format="json")
    assert again.status_code == 409 and again.json()["error"]["details"] == {"export_id": export_id}


def test_bad_bodies_are_400s(owner, api_for, transactional_db):
    client = api_for(owner)
    for body in ({"include_audio": "perhaps"}, {"include_audio": [True]}, ["x"]):
        response = client.post(EXPORTS, body, format="json")
        assert response.status_code == 400, body
    assert not DataExport.objects.exists()
    assert client.get(f"{EXPORTS}/not-a-uuid").status_code == 404


def test_a_key_without_keys_manage_cannot_export(owner, api_for, transactional_db):
    assert api_for(owner, scopes=["voices:read"]).post(EXPORTS, {}, format="json").status_code == 403


def test_after_24_hours_the_sweep_deletes_the_export_and_its_file(owner, api_for, run_worker):
    client = api_for(owner)
    export_id = client.post(EXPORTS, {}, format="json").json()["id"]
    run_worker()
    assert media_files(settings.MEDIA_ROOT) == {f"exports/{owner.pk}/{export_id}.zip"}
    DataExport.objects.filter(pk=export_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    run_worker(EngineWorker(worker_id="next-worker"))  # a fresh worker sweeps at once

    assert not DataExport.objects.exists()
    assert media_files(settings.MEDIA_ROOT) == set()
    assert download(client, export_id).status_code == 404


def test_a_build_whose_worker_died_is_taken_up_again(owner, api_for, transactional_db):
    export_id = api_for(owner).post(EXPORTS, {}, format="json").json()["id"]
    assert str(export_claim_next(worker_id="dead-worker").pk) == export_id
    assert export_claim_next(worker_id="alive") is None
    later = timezone.now() + timedelta(hours=2)
    assert str(export_claim_next(worker_id="alive", now=later).pk) == export_id


def test_include_audio_takes_a_json_boolean_only(owner, api_for):
    response = api_for(owner).post(EXPORTS, {"include_audio": 0}, format="json")
    assert response.status_code == 400
    assert "include_audio" in response.json()["error"]["details"]
