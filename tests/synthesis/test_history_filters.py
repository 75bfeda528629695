"""synthesis.filters.HistoryFilters: the history's query, parsed once for the API
(GET /api/v1/synthesis) and the dashboard's history page."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from core.errors import ApiError
from synthesis.filters import HistoryFilters

BAD_QUERIES = [
    {"status": "queued,exploded"},
    {"status": "queued,,running"},
    {"from": "2026-02-30"},
    {"to": "9999-12-31"},
    {"status": "exploded", "from": "yesterday"},  # several bad: the same one is named first
]


def test_an_empty_query_filters_nothing_and_orders_newest_first():
    assert HistoryFilters.parse({}) == HistoryFilters()
    assert HistoryFilters().ordering == "-queued_at"


def test_a_status_list_a_voice_a_language_and_text_are_read_as_given():
    filters = HistoryFilters.parse({"status": "queued,running", "voice": "Joe", "language": "EN", "q": "apples"})
    assert filters.statuses == ("queued", "running")
    assert (filters.voice, filters.language, filters.q) == ("Joe", "en", "apples")


def test_a_voice_that_reads_as_an_id_is_also_matched_by_id():
    voice_id = "0b7c9a4e-2f43-4a55-8d2a-6a1d2f7c1e01"
    assert str(HistoryFilters.parse({"voice": voice_id}).voice_id) == voice_id
    assert HistoryFilters.parse({"voice": "joe"}).voice_id is None


def test_a_bare_to_date_ends_at_the_next_midnight():
    filters = HistoryFilters.parse({"from": "2026-11-25", "to": "2026-11-25"})
    assert filters.start == datetime(2026, 11, 25, tzinfo=UTC)
    assert filters.stop == datetime(2026, 11, 26, tzinfo=UTC)


@pytest.mark.parametrize("ordering", ["", "text", "-id"])
def test_an_ordering_outside_the_two_offered_is_refused(ordering):
    with pytest.raises(ApiError) as raised:
        HistoryFilters.parse({"ordering": ordering})
    assert raised.value.details == {"ordering": ["Use queued_at or -queued_at."]}


@pytest.mark.django_db
@pytest.mark.parametrize("query", BAD_QUERIES)
def test_the_api_and_the_dashboard_refuse_a_bad_query_with_the_same_message(owner_api, client, owner, query):
    api = owner_api.get("/api/v1/synthesis", query)
    assert api.status_code == 400
    message = api.json()["error"]["message"]
    with pytest.raises(ApiError) as raised:
        HistoryFilters.parse(query)
    assert raised.value.message == message
    client.force_login(owner)
    page = client.get("/history/", query)
    assert page.status_code == 400
    assert html.escape(message) in page.content.decode()
