"""`make run`'s configuration, live: debug pages are off unless a developer asks, the
error pages are Speaker's own, and the dashboard's static files are still served."""

from __future__ import annotations

import http.client

import pytest

from tests.live import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    live = LiveServer(tmp_path_factory.mktemp("error-pages"))  # no DEBUG: the default
    assert "DEBUG" not in live.env
    yield live.start()
    live.stop()


def get(server: LiveServer, path: str, host: str = "127.0.0.1") -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", path, headers={"Host": host})
    response = connection.getresponse()
    body = response.read().decode(errors="replace")
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_a_request_for_a_host_not_served_gets_no_traceback(server):
    status, headers, body = get(server, "/", host="attacker.example")
    assert status == 400
    assert '<h1 id="error-title">Bad request</h1>' in body
    assert "Traceback" not in body and "DisallowedHost" not in body and "ALLOWED_HOSTS" not in body


def test_a_missing_page_is_speakers_own_page(server):
    status, headers, body = get(server, "/no-such-page/")
    assert status == 404
    assert '<h1 id="error-title">Page not found</h1>' in body
    assert "URLconf" not in body
    assert headers["content-security-policy"].startswith("default-src 'self'")


def test_the_stylesheet_and_scripts_are_served_with_debug_off(server):
    for path in ("/static/css/app.css", "/static/js/common.js", "/static/img/speaker.svg"):
        status, _, body = get(server, path)
        assert status == 200, path
        assert body


def test_localhost_is_served(server):
    assert get(server, "/accounts/login/", host=f"localhost:{server.port}")[0] == 200
