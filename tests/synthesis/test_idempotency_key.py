"""The Idempotency-Key header on POST /api/v1/synthesis: one rule on every database, at
most 128 printable characters (PostgreSQL refused longer keys with a DataError, a 500;
SQLite stored 10 000 characters)."""

from __future__ import annotations

import pytest

from synthesis.models import SynthesisJob

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


@pytest.mark.parametrize(
    "key", ["k" * 129, "k" * 10_000, "abc\x00def", "tab\there"], ids=["129", "10000", "nul", "tab"]
)
def test_a_key_that_is_too_long_or_has_control_characters_is_400(post_job, key):
    response = post_job(HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "Idempotency-Key" in error["details"]
    assert "128" in error["message"]
    assert not SynthesisJob.objects.exists()


def test_a_key_of_exactly_128_characters_replays_the_job(post_job):
    first = post_job(HTTP_IDEMPOTENCY_KEY="k" * 128)
    again = post_job(HTTP_IDEMPOTENCY_KEY="k" * 128)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["id"] == again.json()["id"]
