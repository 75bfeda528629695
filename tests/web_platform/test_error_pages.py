"""Pages that fail answer with Speaker's own error pages, in the dashboard's look and
under the CSP, whatever DEBUG says: never Django's debug page with its URL patterns or a
traceback. API paths keep their JSON error body. DEBUG itself is off unless asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
LEAKS = ("Traceback", "/etc/passwd", "secret", "URLconf", "DEBUG = True", "settings.py")

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.web_platform.error_pages_urls")]


@pytest.fixture(params=[False, True], ids=["DEBUG off", "DEBUG on"])
def debug(request, settings):  # type: ignore[no-untyped-def]
    settings.DEBUG = request.param
    return request.param


def assert_speaker_page(response, status: int, heading: str) -> str:  # type: ignore[no-untyped-def]
    page = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert f'<p class="error-status">{status}</p>' in page
    assert f'<h1 id="error-title">{heading}</h1>' in page
    assert "css/app.css" in page  # the dashboard's stylesheet
    assert "style-src 'self'" in response["Content-Security-Policy"]
    assert "<style" not in page and " style=" not in page  # nothing the CSP would block
    assert not [leak for leak in LEAKS if leak in page]
    return page


def test_a_missing_page_is_speakers_404_page(client, debug):
    assert_speaker_page(client.get("/no-such-page/"), 404, "Page not found")


def test_a_missing_page_signed_in_keeps_the_navigation(client, owner, debug):
    client.force_login(owner)
    page = assert_speaker_page(client.get("/no-such-page/"), 404, "Page not found")
    assert 'aria-label="Main"' in page and owner.username in page


def test_a_page_that_raises_http404_is_speakers_404_page(client, owner, debug):
    client.force_login(owner)
    assert_speaker_page(client.get("/engines/"), 404, "Page not found")  # staff only: others see no such page


def test_a_forbidden_page_is_speakers_403_page(client, debug):
    assert_speaker_page(client.get("/test-forbidden/"), 403, "Not allowed")


def test_a_crash_outside_the_api_is_speakers_500_page_without_a_traceback(settings):
    settings.DEBUG = False
    crashing = Client(raise_request_exception=False)
    assert_speaker_page(crashing.get("/test-crash/"), 500, "Something went wrong")


def test_a_suspicious_request_is_speakers_400_page(settings):
    settings.DEBUG = False
    assert_speaker_page(Client().get("/test-suspicious/"), 400, "Bad request")


def test_a_host_the_server_does_not_serve_gets_the_400_page(settings):
    settings.DEBUG = False
    assert_speaker_page(Client(HTTP_HOST="attacker.example").get("/"), 400, "Bad request")


def test_api_paths_keep_their_json_error_body(client, debug):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_a_missing_page_with_a_slash_left_off_still_redirects(client, debug):
    response = client.get("/generate")
    assert (response.status_code, response["Location"]) == (301, "/generate/")


def test_debug_is_off_by_default_even_in_development():
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE")}
    environment["ENVIRONMENT"] = "development"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
