"""`from`/`to` on history and usage, in the API and on the dashboard's pages: one parser
(synthesis.selectors.parse_when). A date that does not exist or lies outside
1970-01-01 … 2999-12-31 is a 400 with the error body (a page with the message on the
dashboard), never a 500 or a debug page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

BAD_DATES = [
    ("from", "2026-02-30"),  # well formed, not a day
    ("from", "2026-13-45"),
    ("to", "2026-02-30"),
    ("to", "9999-12-31"),  # the day after overflows
    ("from", "0001-01-01"),
    ("from", "2026-02-30T10:00:00"),
    ("to", "2026-04-31T25:61:00Z"),
]
API_PATHS = ["/api/v1/synthesis", "/api/v1/usage"]
PAGES = ["/history/", "/usage/"]


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize(("name", "value"), BAD_DATES)
def test_the_api_answers_a_date_that_is_not_real_with_400(owner_api, path, name, value):
    response = owner_api.get(path, {name: value})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert name in error["message"] and name in error["details"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(("name", "value"), BAD_DATES)
def test_the_dashboard_pages_show_the_error_with_400(client, owner, path, name, value):
    client.force_login(owner)
    response = client.get(path, {name: value})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert f"{name} " in response.content.decode()


@pytest.mark.parametrize("path", API_PATHS)
def test_real_dates_at_the_edges_of_the_range_are_accepted(owner_api, path):
    response = owner_api.get(path, {"from": "1970-01-01", "to": "2999-12-31"})
    assert response.status_code == 200, response.content


def test_a_bare_to_date_on_the_history_page_still_includes_that_whole_day(client, owner):
    from django.utils import timezone

    from synthesis.models import SynthesisJob

    job = SynthesisJob.objects.create(
        owner=owner, voice_name="joe", voice_builtin=True, engine="piper", language="en", text="late at night"
    )
    today = timezone.now().date().isoformat()
    client.force_login(owner)
    page = client.get("/history/", {"from": today, "to": today})
    assert page.status_code == 200 and str(job.pk) in page.content.decode()
