"""A request head over daphne's limits (16 KiB for the request line, and for the
request line with all headers) is answered with the error body, 414 when the URL is too
long and 431 when the headers are: never a dropped connection or a bare 400. Raw
sockets against daphne as `make run` starts it."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from core.daphne_compat import HEAD_LIMIT_BYTES
from tests.live import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    live = LiveServer(tmp_path_factory.mktemp("long-urls")).start()
    yield live
    live.stop()


def send_raw(server: LiveServer, head: bytes) -> bytes:
    """Send a request head and read everything until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def parse(raw: bytes) -> tuple[int, dict[str, str], dict]:
    assert raw, "the server closed the connection without answering"
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, json.loads(body)


@pytest.mark.parametrize("length", [20_000, 100_000, 1_000_000])
def test_a_url_over_the_limit_is_answered_414_with_the_error_body(server, length):
    raw = send_raw(server, b"GET /api/v1/voices?q=" + b"a" * length + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status, headers, body = parse(raw)
    assert status == 414
    assert headers["content-type"] == "application/json"
    assert body["error"]["code"] == "uri_too_long"
    assert str(HEAD_LIMIT_BYTES) in body["error"]["message"]
    assert body["error"]["details"] == {"limit_bytes": HEAD_LIMIT_BYTES}


def test_a_long_url_read_by_an_http_client_gets_its_answer(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/?q=" + "x" * 20_000)
    response = connection.getresponse()
    assert response.status == 414
    assert json.loads(response.read())["error"]["code"] == "uri_too_long"
    connection.close()


def test_a_url_that_fills_most_of_the_head_with_its_headers_is_414(server):
    head = b"GET /?q=" + b"a" * 12_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + b"b" * 5_000 + b"\r\n\r\n"
    assert parse(send_raw(server, head))[0] == 414


@pytest.mark.parametrize(
    "headers",
    [b"X-Huge: " + b"h" * 20_000 + b"\r\n", b"".join(b"X-Many-%d: %s\r\n" % (n, b"m" * 1000) for n in range(20))],
    ids=["one header line too long", "all headers together too large"],
)
def test_headers_over_the_limit_are_answered_431_with_the_error_body(server, headers):
    status, _, body = parse(send_raw(server, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n"))
    assert status == 431
    assert body["error"]["code"] == "request_header_fields_too_large"


def test_a_url_just_under_the_limit_is_served(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/health?q=" + "x" * 15_000)
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    connection.close()
