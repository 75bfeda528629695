"""Two-factor sign-in with TOTP (codes computed by pyotp, as an authenticator app does),
recovery codes, and MFA_REQUIRED_FOR_STAFF."""

from __future__ import annotations

import time

import pyotp
import pytest
from allauth.mfa.models import Authenticator

from monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "owner-pass-123"


@pytest.fixture(autouse=True)
def _one_step_of_clock_drift(settings):  # type: ignore[no-untyped-def]
    # Accept the neighbouring 30-second steps (as a phone's clock drift needs), so that a
    # test has three distinct valid codes without waiting for the clock.
    settings.MFA_TOTP_TOLERANCE = 1


def codes(secret: str) -> list[str]:
    """The previous, current and next valid codes."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    return [totp.at(now - 30), totp.at(now), totp.at(now + 30)]


def sign_in(client, username: str = "olivia"):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"login": username, "password": PASSWORD})


def enrol_totp(client) -> str:  # type: ignore[no-untyped-def]
    """Signed in: confirm the password, scan the secret, answer with a code. The secret."""
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post("/accounts/2fa/totp/activate/", {"code": codes(secret)[0]})
    assert response.status_code == 302, response.content
    return secret


@pytest.fixture
def totp_owner(client, owner) -> str:  # type: ignore[no-untyped-def]
    sign_in(client)
    secret = enrol_totp(client)
    client.post("/accounts/logout/")
    return secret


def test_enrolling_totp_makes_recovery_codes_and_is_audited(client, owner, django_capture_on_commit_callbacks):
    sign_in(client)
    with django_capture_on_commit_callbacks(execute=True):  # allauth signals after the commit
        enrol_totp(client)
    assert set(Authenticator.objects.filter(user=owner).values_list("type", flat=True)) == {"totp", "recovery_codes"}
    assert AuditEvent.objects.filter(action="mfa.added", user=owner, details__type="totp").exists()


def test_a_password_alone_no_longer_signs_in(client, owner, totp_owner):
    response = sign_in(client)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/api/v1/me").status_code == 401
    assert client.post("/accounts/2fa/authenticate/", {"code": codes(totp_owner)[1]}).status_code == 302
    assert client.get("/api/v1/me").json()["username"] == "olivia"


def test_a_code_cannot_be_replayed_within_its_window(client, owner, totp_owner):
    code = codes(totp_owner)[1]
    sign_in(client)
    client.post("/accounts/2fa/authenticate/", {"code": code})
    client.post("/accounts/logout/")
    sign_in(client)
    replay = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert replay.status_code == 200 and b"Incorrect code" in replay.content
    assert client.get("/api/v1/me").status_code == 401
    assert AuditEvent.objects.filter(action="auth.mfa", outcome="failure", user=owner).count() == 1


def test_guessing_codes_locks_the_second_factor_and_is_audited(client, owner, totp_owner):
    sign_in(client)
    valid = set(codes(totp_owner))
    wrong = [c for c in (f"{n:06d}" for n in range(100000, 100020)) if c not in valid][:5]
    for guess in wrong:
        response = client.post("/accounts/2fa/authenticate/", {"code": guess})
        assert b"Incorrect code" in response.content
    locked = client.post("/accounts/2fa/authenticate/", {"code": codes(totp_owner)[2]})
    assert b"Too many failed" in locked.content
    assert client.get("/api/v1/me").status_code == 401
    assert AuditEvent.objects.filter(action="auth.mfa", outcome="failure", user=owner).count() == 5
    assert AuditEvent.objects.filter(action="auth.mfa.locked", user=owner).exists()


def test_a_recovery_code_signs_in_once(client, owner, totp_owner):
    recovery = Authenticator.objects.get(user=owner, type="recovery_codes").wrap().get_unused_codes()[0]
    sign_in(client)
    assert client.post("/accounts/2fa/authenticate/", {"code": recovery}).status_code == 302
    client.post("/accounts/logout/")
    sign_in(client)
    assert b"Incorrect code" in client.post("/accounts/2fa/authenticate/", {"code": recovery}).content


def test_removing_totp_is_audited(client, owner, totp_owner, django_capture_on_commit_callbacks):
    sign_in(client)
    client.post("/accounts/2fa/authenticate/", {"code": codes(totp_owner)[1]})
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/accounts/2fa/totp/deactivate/").status_code == 302
    assert AuditEvent.objects.filter(action="mfa.removed", user=owner, details__type="totp").exists()


def test_staff_without_a_second_factor_are_sent_to_enrol(client, owner, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    owner.is_staff = owner.is_superuser = True
    owner.save()
    sign_in(client)
    for page in ("/admin/", "/engines/", "/accounts/invitations/"):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"] == "/accounts/2fa/", page
    assert client.get("/").status_code == 200  # the rest of the dashboard is theirs
    enrol_totp(client)
    assert client.get("/admin/").status_code == 200


def test_the_requirement_is_off_outside_production_by_default(client, owner, settings):
    assert settings.MFA_REQUIRED_FOR_STAFF is False
    owner.is_staff = owner.is_superuser = True
    owner.save()
    sign_in(client)
    assert client.get("/admin/").status_code == 200


def test_the_admin_signs_in_through_the_audited_login_page(client, owner):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
