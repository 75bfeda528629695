"""Who may read /metrics and /prometheus: everyone when unconfigured; with METRICS_TOKEN
a bearer token (compared in constant time) unless the client is in METRICS_ALLOWED_IPS."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

ENDPOINTS = ["/metrics", "/prometheus"]
TOKEN = "s3cret-metrics-token"


@pytest.fixture
def token(settings) -> str:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return TOKEN


@pytest.mark.parametrize("path", ENDPOINTS)
def test_without_a_token_configured_they_are_open(client, settings, path):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_with_a_token_configured_a_caller_without_one_gets_401(client, token, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_wrong_token_gets_403(client, token, path):
    response = client.get(path, HTTP_AUTHORIZATION="Bearer not-the-token")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_the_right_bearer_token_gets_in(client, token, path):
    assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.get(path, HTTP_AUTHORIZATION=f"bearer {TOKEN}").status_code == 200


def test_the_token_is_not_accepted_in_another_scheme_or_as_a_prefix(client, token):
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN[:-1]}").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 403


@pytest.mark.parametrize("allowed", [["10.0.0.7"], ["10.0.0.0/24"], ["192.168.1.1", " 10.0.0.0/8 "]])
def test_an_allowed_address_needs_no_token(client, token, settings, allowed):
    settings.METRICS_ALLOWED_IPS = allowed
    assert client.get("/prometheus", REMOTE_ADDR="10.0.0.7").status_code == 200
    assert client.get("/prometheus", REMOTE_ADDR="172.16.0.1").status_code == 401


def test_an_ipv4_client_on_a_dual_stack_socket_matches_its_ipv4_entry(client, token, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.7"]
    assert client.get("/metrics", REMOTE_ADDR="::ffff:10.0.0.7").status_code == 200


def test_a_forwarded_for_header_cannot_claim_an_allowed_address(client, token, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.7"]
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.7")
    assert response.status_code == 401


def test_with_only_an_allow_list_other_addresses_get_403(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.7"]
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.8").status_code == 403


def test_health_endpoints_stay_open_for_probes(client, token):
    assert client.get("/health").status_code == 200
    assert client.get("/health/ready").status_code in (200, 503)  # never 401/403


def test_a_bad_allow_list_entry_fails_the_system_checks(settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.300"]
    with pytest.raises(SystemCheckError, match="monitoring.E001"):
        call_command("check")
