"""GET /health: liveness. Fast, and touches nothing external (no database, no cache)."""

from __future__ import annotations

import pytest


def test_it_answers_ok_without_touching_the_database(client):
    # No `db` fixture: pytest-django fails the test if the view runs a single query.
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_stays_up_when_no_engine_worker_is_alive(client):
    # Liveness must not depend on workers: a restart would not bring them back.
    assert client.get("/health").status_code == 200


def test_it_only_answers_get(client):
    assert client.post("/health").status_code == 405
