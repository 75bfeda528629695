"""GET /v2/voices (the SDK's voices.search): search, page_size, next_page_token,
has_more and total_count."""

from __future__ import annotations

import base64

import pytest

from tests.elevenlabs_api.conftest import error_of
from voices.models import Voice


@pytest.fixture
def five_voices(owner) -> list[Voice]:
    return [
        Voice.objects.create(
            owner=owner,
            name=f"Reader {i}",
            description="bedtime" if i % 2 else "",
            language="en",
            engine="xtts",
            status=Voice.Status.READY,
        )
        for i in range(5)
    ]


def test_pages_walk_every_voice_once(owner_xi, five_voices):
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params = {"page_size": 2, "voice_type": "personal"}
        if token:
            params["next_page_token"] = token
        page = owner_xi.get("/v2/voices", params).json()
        assert page["total_count"] == 5
        seen += [v["voice_id"] for v in page["voices"]]
        pages += 1
        if not page["has_more"]:
            assert page["next_page_token"] is None
            break
        token = page["next_page_token"]
    assert pages == 3 and sorted(seen) == sorted(str(v.pk) for v in five_voices)


def test_search_matches_name_and_description(owner_xi, five_voices):
    assert owner_xi.get("/v2/voices", {"search": "reader 3"}).json()["total_count"] == 1
    assert owner_xi.get("/v2/voices", {"search": "bedtime"}).json()["total_count"] == 2


def test_the_default_voices_are_the_built_in_ones(owner_xi, five_voices):
    page = owner_xi.get("/v2/voices", {"voice_type": "default"}).json()
    assert page["voices"] and all(v["category"] == "premade" for v in page["voices"])


def test_another_users_voices_are_not_found(outsider_xi, five_voices):
    assert outsider_xi.get("/v2/voices", {"search": "reader"}).json()["total_count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": "x"}, "page_size"),
        ({"next_page_token": "garbage!"}, "next_page_token"),
    ],
)
def test_bad_paging_is_400(owner_xi, params, field):
    response = owner_xi.get("/v2/voices", params)
    assert response.status_code == 400 and field in error_of(response)["message"]


@pytest.mark.parametrize(
    "offset", [str(2**63), str(2**31), "9" * 5000, "²"], ids=["2**63", "2**31", "5000-digits", "superscript-two"]
)
def test_a_page_token_past_any_offset_a_database_holds_is_400(owner_xi, five_voices, offset):
    # offset:2**63 overflowed SQLite's integers and PostgreSQL's bigint: a 500 on both.
    token = base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")
    response = owner_xi.get("/v2/voices", {"next_page_token": token})
    assert response.status_code == 400, response.content[:300]
    assert "next_page_token" in error_of(response)["message"]


def test_the_last_offset_a_token_may_carry_is_an_empty_page(owner_xi, five_voices):
    token = base64.urlsafe_b64encode(f"offset:{2**31 - 1}".encode()).decode().rstrip("=")
    page = owner_xi.get("/v2/voices", {"next_page_token": token}).json()
    assert page["voices"] == [] and page["has_more"] is False and page["total_count"] > 0
