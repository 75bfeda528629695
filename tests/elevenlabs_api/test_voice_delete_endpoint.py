"""DELETE /v1/voices/{voice_id}: the caller's own clone only."""

from __future__ import annotations

from monitoring.models import AuditEvent
from voices.models import Voice


def make_voice(user, name="Grandma"):  # type: ignore[no-untyped-def]
    return Voice.objects.create(owner=user, name=name, language="en", engine="xtts", status=Voice.Status.READY)


def test_it_deletes_my_voice_and_audits_it(owner_xi, owner):
    voice = make_voice(owner)
    response = owner_xi.delete(f"/v1/voices/{voice.pk}")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert not Voice.objects.filter(pk=voice.pk).exists()
    assert AuditEvent.objects.filter(action="voice.deleted", target_id=str(voice.pk)).exists()


def test_another_users_voice_is_404_and_stays(owner_xi, outsider):
    voice = make_voice(outsider)
    assert owner_xi.delete(f"/v1/voices/{voice.pk}").status_code == 404
    assert Voice.objects.filter(pk=voice.pk).exists()


def test_a_built_in_voice_is_not_the_callers_to_delete(owner_xi):
    joe = Voice.objects.filter(is_builtin=True).first()
    assert owner_xi.delete(f"/v1/voices/{joe.pk}").status_code == 404
    assert Voice.objects.filter(pk=joe.pk).exists()


def test_deleting_needs_voices_write(owner, xi_for):
    voice = make_voice(owner)
    assert xi_for(owner, ["voices:read"]).delete(f"/v1/voices/{voice.pk}").status_code == 403
