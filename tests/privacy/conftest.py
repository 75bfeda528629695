"""People's data fixtures: the owner persona with something of everything Speaker keeps
(a cloned voice with its sample, stored conditioning and consent, a cloning attestation,
generations with audio, a finished production, an export, a signed-in session, an API
key), and a scan of the whole database and MEDIA_ROOT for what is left of someone."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from accounts.models import User
from tests.conftest_engines import piper_engine  # noqa: F401 - the fixture registers here
from tests.voices.conftest import other_speech, other_upload, piper_speech, piper_speech_wav, speech_upload  # noqa: F401
from voices.models import Voice, VoiceSample
from voices.services.attestation import attestation_accept
from voices.services.consents import voice_consent_create

OWNER_PASSWORD = "owner-pass-123"  # tests/conftest.py's personas
PASSWORDS = {"olivia": OWNER_PASSWORD, "oscar": "outsider-pass-123"}
SECRET_TEXT = "Olivia whispers her plum-coloured secret."


@dataclass
class Belongings:
    """What a persona owns: the strings and ids that must all be gone after erasure."""

    user: User
    voice_ids: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    production_ids: list[str] = field(default_factory=list)
    export_ids: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)

    def all_markers(self) -> list[str]:
        return [*self.markers, *self.voice_ids, *self.job_ids, *self.production_ids, *self.export_ids]


def api_post(client: Any, path: str, body: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(path, body, format="json", **kwargs)


@pytest.fixture
def fill(run_worker, speech_upload, other_upload, api_for) -> Callable[..., Belongings]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Give `user` something of everything, made through the API and run by a real
    worker; returns what they own. `other_sample`: a recording of other speech (two
    personas' samples must differ, or their hashes would be each other's traces)."""

    def _fill(user: User, *, name: str, text: str, other_sample: bool = False) -> Belongings:
        client = api_for(user)
        owned = Belongings(user=user, markers=[user.username, user.email, text, name])
        voice = client.post(
            "/api/v1/voices",
            {
                "name": name,
                "language": "en",
                "consent": "true",
                "samples": [other_upload() if other_sample else speech_upload()],
            },
            format="multipart",
        )
        assert voice.status_code == 201, voice.content
        voice_id = voice.json()["id"]
        owned.voice_ids.append(voice_id)
        Voice.objects.filter(pk=voice_id).update(conditioning=f"conditioning of {name}".encode())
        owned.markers += list(VoiceSample.objects.filter(voice_id=voice_id).values_list("sha256", flat=True))
        attestation_accept(user=user, via="api")
        recording = voice_consent_create(
            user=user,
            name=f"{name} consent",
            language="en-US",
            recording=other_upload() if other_sample else speech_upload(),
        )
        owned.voice_ids.append(str(recording.pk))
        for sentence in (text, f"{text} Again."):
            job = api_post(client, "/api/v1/synthesis", {"text": sentence, "voice": "joe"})
            assert job.status_code == 202, job.content
            owned.job_ids.append(job.json()["id"])
        production = api_post(
            client, "/api/v1/productions", {"text": f"# {name} reads\n{text}", "voice": "joe", "title": f"{name} book"}
        )
        assert production.status_code == 202, production.content
        owned.production_ids.append(production.json()["id"])
        run_worker()
        export = api_post(client, "/api/v1/account/exports", {"include_audio": True})
        assert export.status_code == 202, export.content
        owned.export_ids.append(export.json()["id"])
        run_worker()
        owned.markers += list(user.api_keys.values_list("prefix", flat=True))
        browser = Client()
        assert browser.login(username=user.username, password=PASSWORDS[user.username])
        return owned

    return _fill


def media_files(root: Path) -> set[str]:
    root = Path(root)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def media_folders(root: Path) -> set[str]:
    root = Path(root)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir()} if root.exists() else set()


def _text(value: Any) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def database_traces(*, user_id: int, markers: list[str]) -> list[str]:
    """Every place in every table of the database that still holds something of the
    user: a column pointing at their row, or any of `markers` inside any value (text,
    JSON, bytes), and a session signed in as them."""
    hits: list[str] = []
    lowered = [m.lower() for m in markers if m]
    user_table = User._meta.db_table
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            relations = connection.introspection.get_relations(cursor, table)
            user_columns = {column for column, (_, target) in relations.items() if target == user_table}
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names from the schema
            columns = [description[0] for description in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if (column in user_columns or (table == user_table and column == "id")) and value == user_id:
                        hits.append(f"{table}.{column} points at the user")
                    text = _text(value).lower()
                    hits += [f"{table}.{column} holds {marker!r}" for marker in lowered if marker in text]
    for session in Session.objects.all():
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id):
            hits.append(f"session {session.session_key} is signed in as the user")
    return hits
