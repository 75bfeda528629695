"""Each API family answers in its own JSON shape, chosen in one place
(core.api_families), whoever answers: the view, a NUL refusal, the rate limit, or Django
itself for a URL that matches nothing. Speaker's `{"error": {code, message, details}}`
under /api/, OpenAI's `{"error": {message, type, param, code}}` under /v1/, ElevenLabs'
`{"detail": {status, message}}` on its routes, under /v2/ and wherever its key header
comes. Before, a NUL in the query on ElevenLabs' /v1/ routes got OpenAI's shape, on
/v2/voices plain text, and an unknown path under /v1/ Django's HTML 404 page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory
from rest_framework.test import APIClient

from core.api_families import ApiFamily, api_key_headers, by_family, families, family_for, family_register
from core.api_families import _families as registered

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

ROOT = Path(__file__).resolve().parents[2]


def family_of(response) -> str:  # type: ignore[no-untyped-def]
    """Which family's error body this is; fails on anything else (HTML, plain text)."""
    assert response["Content-Type"].startswith("application/json"), (response["Content-Type"], response.content[:200])
    body = response.json()
    if set(body) == {"detail"} and set(body["detail"]) == {"status", "message"}:
        return "elevenlabs"
    error = body["error"]
    if set(error) == {"message", "type", "param", "code"}:
        return "openai"
    assert set(error) == {"code", "message", "details"}, body
    return "speaker"


@pytest.fixture
def bearer(owner_api):  # type: ignore[no-untyped-def]
    """The owner's key as OpenAI's and Speaker's clients send it."""
    return owner_api


@pytest.fixture
def owner_xi(owner, make_key):  # type: ignore[no-untyped-def]
    """The owner's key as ElevenLabs' clients send it."""
    client = APIClient()
    client.credentials(HTTP_XI_API_KEY=make_key(owner))
    return client


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/v1/voices?search=a%00b", "elevenlabs"),
        ("/v1/history?search=%00", "elevenlabs"),
        ("/v1/user?x=%00", "elevenlabs"),
        ("/v2/voices?search=%00", "elevenlabs"),
        ("/v1/audio/voices?x=%00", "openai"),
        ("/api/v1/voices?q=%00", "speaker"),
    ],
)
def test_a_nul_in_the_query_is_400_in_the_routes_own_family(bearer, path, family):
    response = bearer.get(path)
    assert response.status_code == 400
    assert family_of(response) == family
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/v1/no-such-route", "openai"),
        ("/v1/audio/nothing", "openai"),
        ("/v1/text-to-speech/joe/nothing", "elevenlabs"),
        ("/v1/voices/add/more", "elevenlabs"),
        ("/v2/no-such-route", "elevenlabs"),
        ("/api/v1/no-such-route", "speaker"),
    ],
)
def test_an_unknown_path_is_a_json_404_in_the_familys_shape(bearer, path, family):
    response = bearer.get(path)
    assert response.status_code == 404
    assert family_of(response) == family


def test_an_unknown_path_under_v1_with_the_elevenlabs_key_header_is_elevenlabs(owner_xi):
    response = owner_xi.get("/v1/no-such-route")
    assert response.status_code == 404 and family_of(response) == "elevenlabs"


def test_a_wrong_method_on_a_plain_openai_view_is_a_405_in_openais_shape(bearer):
    response = bearer.delete("/v1/audio/speech")
    assert response.status_code == 405 and family_of(response) == "openai"
    assert "POST" in response["Allow"]


def test_pages_that_are_no_apis_are_left_alone(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("make_client", "path", "family", "code"),
    [
        ("owner_api", "/api/v1/me", "speaker", "rate_limited"),
        ("owner_api", "/v1/audio/voices", "openai", "rate_limit_exceeded"),
        ("owner_xi", "/v1/voices", "elevenlabs", "too_many_requests"),
        ("owner_xi", "/v1/models", "elevenlabs", "too_many_requests"),
    ],
)
def test_the_rate_limit_answers_in_the_familys_shape(request, settings, make_client, path, family, code):
    settings.RATE_LIMIT_REQUESTS = 1
    caller = request.getfixturevalue(make_client)
    caller.get(path)
    response = caller.get(path)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert family_of(response) == family
    body = response.json()
    assert (body["detail"]["status"] if family == "elevenlabs" else body["error"]["code"]) == code


def test_the_shared_models_route_answers_each_family_its_own_list(owner_api, owner_xi):
    openai = owner_api.get("/v1/models").json()
    elevenlabs = owner_xi.get("/v1/models").json()
    assert openai["object"] == "list" and [m["id"] for m in openai["data"]] == ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]
    assert isinstance(elevenlabs, list) and all("model_id" in m for m in elevenlabs)


def test_a_family_registered_by_a_package_gets_its_paths_and_key_header():
    rf = RequestFactory()
    seen = []

    def render(*, status, code, message, field, details, headers):  # type: ignore[no-untyped-def]
        seen.append((status, code, message, field))
        return JsonResponse({"wyoming": message}, status=status)

    family_register(
        ApiFamily(name="test-family", prefixes=("/v1/test-family/",), render=render, key_header="x-test-key")
    )
    try:
        assert family_for(rf.get("/v1/test-family/x")).name == "test-family"
        assert family_for(rf.get("/v1/audio/speech")).name == "openai"
        assert family_for(rf.get("/dashboard/")) is None
        assert "x-test-key" in api_key_headers() and "xi-api-key" in api_key_headers()
        family = family_for(rf.get("/v1/test-family/x"))
        assert family.error(404).status_code == 404 and seen == [(404, "not_found", "Not found.", None)]
    finally:
        registered.pop("test-family")
    assert [f.name for f in families()] == ["speaker", "openai", "elevenlabs"]


def test_a_shared_route_sends_each_family_to_its_view():
    rf = RequestFactory()
    shared = by_family(lambda request: HttpResponse("default"), elevenlabs=lambda request: HttpResponse("eleven"))
    assert shared(rf.get("/v1/models")).content == b"default"
    assert shared(rf.get("/v1/models", HTTP_XI_API_KEY="spk_x")).content == b"eleven"


def test_core_names_no_vendor():
    # Each compatibility package brings its own error body and key header (registered at app ready).
    for source in sorted((ROOT / "core").glob("*.py")) + [ROOT / "accounts" / "ratelimit.py"]:
        text = source.read_text().lower()
        for vendor in ("openai", "elevenlabs", "xi-api-key"):
            assert vendor not in text, f"{source.relative_to(ROOT)} names {vendor}"
