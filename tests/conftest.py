"""Shared fixtures. Personas: `owner` (has data), `outsider` (another user, must never
see the owner's objects), and anonymous clients."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import apikey_create
from core.engines import reset_registry
from engine_host.worker import EngineWorker
from voices.services import builtin_voices_sync

_DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path: Path) -> None:
    # Fast hashing; files in a per-test folder; fresh counters (Redis cache is shared).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AUDIT_LOG_FILE = tmp_path / "logs" / "audit.log"
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def sync_builtin_voices(request: pytest.FixtureRequest) -> None:
    """What every server process does when it starts (voices.services.catalogue): the
    built-in voices of the engines it runs, synced. Each test's database starts empty, so
    a test that uses one gets them here, and a fixture that changes the engines syncs
    again, as a restarted server would. Requests never sync them."""
    if request.node.get_closest_marker("django_db") is None and not _DATABASE_FIXTURES & set(request.fixturenames):
        return
    request.getfixturevalue("db")  # the test's own database mode (pytest-django reads the marker)
    builtin_voices_sync()


@pytest.fixture(autouse=True)
def _builtin_voices(request: pytest.FixtureRequest) -> None:
    sync_builtin_voices(request)


@pytest.fixture
def owner(db) -> User:
    return User.objects.create_user(username="olivia", email="olivia@example.com", password="owner-pass-123")


@pytest.fixture
def outsider(db) -> User:
    return User.objects.create_user(username="oscar", email="oscar@example.com", password="outsider-pass-123")


@pytest.fixture
def make_key() -> Callable[..., str]:
    def _make(user: User, scopes: list[str] | None = None, **kwargs) -> str:  # type: ignore[no-untyped-def]
        return apikey_create(user=user, name=kwargs.pop("name", "test"), scopes=scopes, **kwargs).plaintext

    return _make


@pytest.fixture
def owner_key(owner: User, make_key) -> str:  # type: ignore[no-untyped-def]
    return make_key(owner)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def owner_api(owner_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {owner_key}")
    return client


@pytest.fixture
def outsider_api(outsider: User, make_key) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(outsider)}")
    return client


@pytest.fixture
def api_for(make_key) -> Callable[..., APIClient]:  # type: ignore[no-untyped-def]
    def _api(user: User, scopes: list[str] | None = None) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=make_key(user, scopes))
        return client

    return _api


def pytest_runtest_setup(item: pytest.Item) -> None:
    from django.conf import settings

    if item.get_closest_marker("postgres") and not settings.USING_POSTGRES:
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://…; .ci/run does)")
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        pytest.skip("needs Redis (set REDIS_URL=redis://…; .ci/run does)")


@pytest.fixture
def piper_only(settings, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The engines a fresh checkout has without XTTS weights: Piper alone."""
    settings.TTS_ENGINES = ["piper"]
    settings.XTTS_MODEL_DIR = ""
    reset_registry()
    sync_builtin_voices(request)
    yield
    reset_registry()


@pytest.fixture(scope="session")
def live_server_embedded(tmp_path_factory):  # type: ignore[no-untyped-def]
    """`make run`'s configuration, live: daphne with the engine worker inside."""
    from tests.live import LiveServer

    server = LiveServer(tmp_path_factory.mktemp("live")).start()
    yield server
    server.stop()


@pytest.fixture
def run_worker(piper_only, transactional_db) -> Callable[..., EngineWorker]:  # type: ignore[no-untyped-def]
    """A real engine worker in this process, run until the queue is empty (what the
    embedded default's worker thread does). Transactional: the worker closes stale
    connections between rounds as it does in production, which on PostgreSQL would
    close a test's wrapping transaction."""

    def _run(worker: EngineWorker | None = None, max_rounds: int = 200) -> EngineWorker:
        worker = worker or EngineWorker(worker_id="test-worker")
        for _ in range(max_rounds):
            if not worker.run_once():
                break
        return worker

    return _run
