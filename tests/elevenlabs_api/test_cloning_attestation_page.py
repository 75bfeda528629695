"""The dashboard's cloning attestation page: a plain form to accept or withdraw it."""

from __future__ import annotations

from django.test import Client

from monitoring.models import AuditEvent
from voices.models import CLONING_ATTESTATION_STATEMENT, CloningAttestation

URL = "/cloning-attestation/"


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_it_needs_a_signed_in_user(db):
    response = Client().get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_shows_the_statement_and_that_nothing_is_accepted(owner):
    page = signed_in(owner).get(URL).content.decode()
    assert CLONING_ATTESTATION_STATEMENT.split(",")[0] in page and 'data-attestation-state="none"' in page


def test_ticking_the_box_accepts_it_from_the_dashboard(owner):
    client = signed_in(owner)
    response = client.post(URL, {"action": "accept", "accept": "true"})
    assert response.status_code == 302
    record = CloningAttestation.objects.get(user=owner)
    assert record.via == "dashboard" and record.revoked_at is None
    assert AuditEvent.objects.filter(action="cloning_attestation.accepted", target_id=str(record.pk)).exists()
    assert 'data-attestation-state="accepted"' in client.get(URL).content.decode()


def test_without_the_box_nothing_is_accepted(owner):
    response = signed_in(owner).post(URL, {"action": "accept"})
    assert response.status_code == 400 and "Tick the box" in response.content.decode()
    assert not CloningAttestation.objects.exists()


def test_it_can_be_withdrawn(owner):
    client = signed_in(owner)
    client.post(URL, {"action": "accept", "accept": "true"})
    client.post(URL, {"action": "revoke"})
    assert CloningAttestation.objects.get(user=owner).revoked_at is not None


def test_the_form_is_csrf_protected(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(URL, {"action": "accept", "accept": "true"}).status_code == 403
    assert not CloningAttestation.objects.exists()


def test_the_voices_page_links_to_it(owner):
    assert f'href="{URL}"' in signed_in(owner).get("/voices/").content.decode()
