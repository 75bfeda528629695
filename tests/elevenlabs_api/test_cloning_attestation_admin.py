"""Operators review cloning attestations in the admin, read-only (they are evidence)."""

from __future__ import annotations

from django.test import Client

from accounts.models import User
from voices.models import CloningAttestation
from voices.services.attestation import attestation_accept


def test_an_operator_sees_attestations_and_cannot_change_or_delete_them(owner):
    record = attestation_accept(user=owner, via=CloningAttestation.Via.API)
    admin = User.objects.create_superuser(username="root", email="root@example.com", password="root-pass-123")
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/voices/cloningattestation/")
    assert listing.status_code == 200 and "olivia" in listing.content.decode()
    detail = client.get(f"/admin/voices/cloningattestation/{record.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert client.post(f"/admin/voices/cloningattestation/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CloningAttestation.objects.filter(pk=record.pk).exists()
