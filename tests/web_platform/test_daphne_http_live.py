"""What clients see on the wire from daphne, the server `make run` starts: status lines
carry their reason phrase, and a form body that cannot be parsed is answered by the API
(error body, JSON) rather than by Twisted's bare 400."""

from __future__ import annotations

import http.client
import json
import uuid

import pytest

from tests.live import LiveServer

BROKEN_MULTIPART = b"--c637e12e2b1a998d80d1b087531af51c--\r\n"
MULTIPART_TYPE = "multipart/form-data; boundary=c637e12e2b1a998d80d1b087531af51c"


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    live = LiveServer(tmp_path_factory.mktemp("daphne-http"), extra_env={"RATE_LIMIT_REQUESTS": "5"}).start()
    yield live
    live.stop()


def request(
    server: LiveServer, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str]
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


@pytest.mark.parametrize(
    "path",
    ["/api/v1/synthesis/bulk-delete", "/api/v1/voices", f"/api/v1/voices/{uuid.uuid4()}/samples"],
)
def test_a_multipart_body_that_does_not_parse_gets_the_error_body(server, path):
    key = server.create_key(f"uploader-{path.count('/')}")
    response = request(
        server,
        "POST",
        path,
        body=BROKEN_MULTIPART,
        headers={"Authorization": f"Bearer {key}", "Content-Type": MULTIPART_TYPE},
    )
    assert 400 <= response.status < 500
    assert response.getheader("Content-Type") == "application/json"
    error = json.loads(response.body)["error"]  # type: ignore[attr-defined]
    assert error["code"] and error["message"]


def test_status_lines_carry_their_reason_phrase(server):
    key = server.create_key("hasty")
    statuses = {}
    for _ in range(7):
        response = request(server, "GET", "/api/v1/me", headers={"Authorization": f"Bearer {key}"})
        statuses[response.status] = response.reason
    unknown = request(server, "GET", "/api/v1/no-such-endpoint", headers={})
    statuses[unknown.status] = unknown.reason
    assert statuses[200] == "OK"
    assert statuses[429] == "Too Many Requests"
    assert "Unknown Status" not in statuses.values()


def test_every_status_the_api_answers_has_a_phrase_in_twisted_table():
    from twisted.web.http import RESPONSES

    from core import daphne_compat
    from core.errors import CODES_BY_STATUS

    daphne_compat.complete_reason_phrases()
    assert {code: RESPONSES.get(code) for code in CODES_BY_STATUS if code not in RESPONSES} == {}
    assert RESPONSES[422] == b"Unprocessable Content" or RESPONSES[422] == b"Unprocessable Entity"
