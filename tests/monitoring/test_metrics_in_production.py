"""/metrics and /prometheus in production: with neither METRICS_TOKEN nor
METRICS_ALLOWED_IPS they refuse everyone (the figures are platform-wide), and
`check --deploy` says why (monitoring.I001)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

ENDPOINTS = ["/metrics", "/prometheus"]


@pytest.fixture
def unprotected_production(settings):  # type: ignore[no-untyped-def]
    settings.PRODUCTION = True
    settings.ENVIRONMENT = "production"
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []


@pytest.mark.parametrize("path", ENDPOINTS)
def test_without_token_or_allow_list_production_refuses_them(client, unprotected_production, path):
    response = client.get(path)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied" and "METRICS_TOKEN" in error["message"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_token_opens_them_again_in_production(client, settings, unprotected_production, path):
    settings.METRICS_TOKEN = "prod-token"
    assert client.get(path, HTTP_AUTHORIZATION="Bearer prod-token").status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_allow_list_opens_them_again_in_production(client, settings, unprotected_production, path):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    assert client.get(path).status_code == 200


def test_the_deploy_check_says_why(unprotected_production, capsys):
    call_command("check", "--deploy", "--tag", "security")
    out = capsys.readouterr()
    text = out.out + out.err
    assert "monitoring.I001" in text and "METRICS_TOKEN" in text and "METRICS_ALLOWED_IPS" in text


def test_the_deploy_check_is_quiet_when_a_token_is_set(settings, unprotected_production, capsys):
    settings.METRICS_TOKEN = "prod-token"
    call_command("check", "--deploy", "--tag", "security")
    assert "monitoring.I001" not in capsys.readouterr().out
