"""voices.services.builtin_voices_sync: the engines' catalogue as voice rows. (Processes
sync at start-up, and tests get that through tests/conftest.py; `no_builtin_voices`
empties the catalogue so that the sync under test starts from nothing.)"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import core.engines as registry_module
from speech.engines.registry import EngineConfig, EngineRegistry
from voices import services
from voices.models import Voice


@pytest.fixture
def no_builtin_voices(db) -> None:  # type: ignore[no-untyped-def]
    """A database the catalogue was never synced to."""
    Voice.objects.filter(is_builtin=True).delete()


def test_it_creates_one_ready_row_per_catalogue_voice(piper_only_engines, no_builtin_voices) -> None:
    services.builtin_voices_sync()

    joe = Voice.objects.get(is_builtin=True, engine="piper", builtin_key="joe")
    assert joe.owner is None
    assert joe.status == "ready"
    assert joe.language == "en"
    assert joe.languages == ["en"]


def test_it_is_idempotent(piper_only_engines, db) -> None:
    services.builtin_voices_sync()
    services.builtin_voices_sync(force=True)

    assert Voice.objects.filter(is_builtin=True).count() == 1


def test_it_costs_one_query_when_nothing_changed(piper_only_engines, db) -> None:
    services.builtin_voices_sync()

    with CaptureQueriesContext(connection) as queries:
        assert services.builtin_voices_sync() == 0

    assert len(queries) == 1


def test_it_notices_a_database_that_lost_its_rows(piper_only_engines, db) -> None:
    services.builtin_voices_sync()
    Voice.objects.filter(is_builtin=True).delete()

    services.builtin_voices_sync()

    assert Voice.objects.filter(is_builtin=True, builtin_key="joe").exists()


def test_it_adds_the_xtts_studio_speakers_when_xtts_is_available(tiny_xtts_engines, no_builtin_voices) -> None:
    services.builtin_voices_sync()

    studio = Voice.objects.filter(is_builtin=True, engine="xtts")
    assert sorted(studio.values_list("builtin_key", flat=True)) == ["Tiny Alice", "Tiny Bob"]
    assert all(len(v.languages) == 17 for v in studio)


def test_builtins_of_an_engine_that_went_away_wait_for_it(tiny_xtts_engines, db, settings, monkeypatch) -> None:
    services.builtin_voices_sync()

    monkeypatch.setattr(registry_module, "_registry", EngineRegistry(EngineConfig(enabled=["piper"])))
    services.builtin_voices_sync()

    alice = Voice.objects.get(is_builtin=True, builtin_key="Tiny Alice")
    assert alice.status == "pending_engine"
    assert "xtts" in alice.status_message
    assert Voice.objects.get(builtin_key="joe").status == "ready"
