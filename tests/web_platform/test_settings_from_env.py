"""Settings come from the environment through typed helpers that fail loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from core import env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("reader", "value"),
    [(env.env_int, "eighty"), (env.env_bool, "ture"), (env.env_float, "fast")],
)
def test_a_bad_value_raises_improperly_configured(monkeypatch, reader, value):
    monkeypatch.setenv("SPEAKER_TEST_VALUE", value)
    with pytest.raises(ImproperlyConfigured, match="SPEAKER_TEST_VALUE"):
        reader("SPEAKER_TEST_VALUE", None)


def test_a_value_below_its_minimum_is_refused(monkeypatch):
    monkeypatch.setenv("SPEAKER_TEST_VALUE", "0")
    with pytest.raises(ImproperlyConfigured, match=">= 1"):
        env.env_int("SPEAKER_TEST_VALUE", 5, minimum=1)


def test_lists_and_choices_parse(monkeypatch):
    monkeypatch.setenv("SPEAKER_TEST_LIST", "https://a.example, https://b.example,")
    assert env.env_list("SPEAKER_TEST_LIST") == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("SPEAKER_TEST_CHOICE", "staging")
    assert env.env_choice("SPEAKER_TEST_CHOICE", ("development", "staging")) == "staging"


def _run_manage(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "ENVIRONMENT", "DEBUG")
    }
    environment.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_needs_a_secret_key():
    result = _run_manage("check", ENVIRONMENT="production", ALLOWED_HOSTS="speaker.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_check_deploy_passes_with_production_settings():
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        ENVIRONMENT="production",
        SECRET_KEY="x7#k2" * 12 + "-production-secret",
        ALLOWED_HOSTS="speaker.example.com",
        EMAIL_URL="smtp+tls://mailer:secret@mail.example.com:587",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_env_example_lists_every_variable_the_settings_read():
    settings_src = (ROOT / "speaker_site" / "settings.py").read_text()
    import re

    read = set(re.findall(r'env_(?:str|int|float|bool|list|choice|db|email)\("([A-Z_]+)"', settings_src))
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()
