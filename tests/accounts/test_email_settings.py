"""EMAIL_URL through the typed settings helper, and the deploy check for console email."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail

from accounts.checks import check_email_delivered
from core.env import env_email


def test_smtp_with_starttls_and_an_encoded_password(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "smtp+tls://mailer%40example.com:p%40ss@mail.example.com:2525")
    assert env_email("EMAIL_URL", "console://") == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "mailer@example.com",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
    }


def test_plain_smtp_defaults_to_port_25_and_smtps_to_465(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "smtp://relay")
    assert env_email("EMAIL_URL", "console://")["EMAIL_PORT"] == 25
    monkeypatch.setenv("EMAIL_URL", "smtps://relay")
    assert env_email("EMAIL_URL", "console://")["EMAIL_USE_SSL"] is True


def test_console_is_the_default():
    assert env_email("EMAIL_URL_UNSET_IN_TESTS", "console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")


@pytest.mark.parametrize("bad", ["http://mail.example.com", "smtp://", "smtp://host:notaport", "mail.example.com"])
def test_a_bad_email_url_fails_at_start_up_naming_the_variable(monkeypatch, bad):
    monkeypatch.setenv("EMAIL_URL", bad)
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        env_email("EMAIL_URL", "console://")


def test_check_deploy_warns_when_production_email_goes_to_the_console(settings):
    settings.PRODUCTION = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    [warning] = check_email_delivered()
    assert warning.id == "accounts.W001" and "console" in warning.msg


def test_no_warning_with_a_mail_server_or_outside_production(settings):
    settings.PRODUCTION = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert check_email_delivered() == []
    settings.PRODUCTION = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert check_email_delivered() == []


def test_mail_reaches_a_real_smtp_server_from_the_default_sender(mailbox, settings):
    settings.DEFAULT_FROM_EMAIL = "Speaker <noreply@speaker.test>"
    send_mail("Hello", "A line with a link: http://127.0.0.1/x", None, ["someone@example.com"])
    mail = mailbox.wait_for("someone@example.com", "Hello")
    assert mail.message["From"] == "Speaker <noreply@speaker.test>"
    assert mail.links == ["http://127.0.0.1/x"]
