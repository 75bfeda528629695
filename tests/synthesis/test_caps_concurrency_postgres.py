"""POST /api/v1/synthesis under real concurrency on PostgreSQL: the active-jobs cap and
the monthly character quota are exact. Thirty requests, each on its own thread and
database connection, are released together by a barrier; the cap check and the insert
are one step (job_create holds the user's row lock), so no request slips past the limit."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from synthesis.models import SynthesisJob

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]
REQUESTS = 30
TEXT_44 = "Forty-four characters of text, exactly this."


def _post_all_at_once(key: str, text: str) -> list[tuple[int, str]]:
    """(status, error code or '') of REQUESTS simultaneous POSTs."""
    barrier = threading.Barrier(REQUESTS)

    def post(_: int) -> tuple[int, str]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        try:
            barrier.wait(timeout=60)
            response = client.post("/api/v1/synthesis", {"text": text, "voice": "joe"}, format="json")
            return response.status_code, (
                response.json().get("error", {}).get("code", "") if response.status_code >= 400 else ""
            )
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(REQUESTS) as pool:
        return list(pool.map(post, range(REQUESTS)))


@pytest.fixture(autouse=True)
def _no_request_rate_limit(settings):  # type: ignore[no-untyped-def]
    settings.RATE_LIMIT_REQUESTS = 10_000  # the caps under test, not the rate limit, answer


def test_thirty_concurrent_creates_with_a_cap_of_three_accept_exactly_three(make_key):
    user = User.objects.create_user("cap", max_active_jobs=3, monthly_character_quota=10**6)
    results = _post_all_at_once(make_key(user), "Hello from a crowd.")
    assert sorted(status for status, _ in results).count(202) == 3
    assert {code for status, code in results if status != 202} == {"too_many_active_jobs"}
    assert SynthesisJob.objects.filter(owner=user, status="queued").count() == 3


def test_thirty_concurrent_creates_never_pass_the_monthly_character_quota(make_key):
    user = User.objects.create_user("quota", max_active_jobs=100, monthly_character_quota=100)
    assert len(TEXT_44) == 44
    results = _post_all_at_once(make_key(user), TEXT_44)
    assert [status for status, _ in results].count(202) == 2  # 88 of 100 characters; a third would need 132
    assert {code for status, code in results if status != 202} == {"quota_exceeded"}
    assert sum(SynthesisJob.objects.filter(owner=user).values_list("character_count", flat=True)) == 88
