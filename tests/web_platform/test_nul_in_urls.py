"""A NUL character (`%00`) in a query parameter or the path is a 400 on every page and
endpoint (core.middleware.RejectNulMiddleware). PostgreSQL text cannot hold NUL:
`?q=%00` reached a filter and raised DataError, a 500; SQLite answered differently."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/synthesis", {"q": "a\x00b"}),
        ("/api/v1/synthesis", {"voice": "jo\x00e"}),
        ("/api/v1/synthesis", {"language": "e\x00n"}),
        ("/api/v1/voices", {"q": "\x00"}),
        ("/api/v1/usage", {"group_by": "day\x00"}),
    ],
)
def test_the_api_answers_nul_in_a_query_parameter_with_400(owner_api, path, params):
    response = owner_api.get(path, params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    [name] = params
    assert error["code"] == "validation_error" and name in error["details"] and "NUL" in error["message"]


def test_the_api_answers_nul_in_the_path_with_400(owner_api):
    response = owner_api.get("/api/v1/voices/abc%00def")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"


def test_the_openai_route_answers_nul_in_the_query_in_its_own_shape(owner_api):
    response = owner_api.post("/v1/audio/speech?x=%00", {"model": "tts-1"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("path", ["/history/?q=a%00b", "/history/?voice=%00", "/generate/?voice=%00", "/voices/?q=%00"])
def test_dashboard_pages_answer_nul_with_400(client, owner, path):
    client.force_login(owner)
    response = client.get(path)
    assert response.status_code == 400 and b"NUL" in response.content


def test_ordinary_unicode_in_a_query_is_fine(owner_api):
    assert owner_api.get("/api/v1/synthesis", {"q": "héllo ☃ 日本"}).status_code == 200
