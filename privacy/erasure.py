"""Erasing an account (docs/privacy.md, "Erase"): everything Speaker keeps of a person,
on disk and in the database, goes; what stays is one audit entry saying that account
<id> was erased, when and from where.

The order matters: the account is switched off first (no new sign-in, key or job while
it is being erased), then running work is cancelled through its owners' own operations
(productions' and synthesis' cancel, which tell workers to stop), then rows and files
go, each app's through its own services (voices' signals remove sample files after their
rows commit). Re-running an erasure that stopped half-way finishes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils import timezone

from accounts.models import APIKey, User
from core import media
from core.errors import ApiError
from core.events import close_key_sockets
from monitoring.models import AuditEvent
from monitoring.services import audit_record
from privacy.models import DataExport
from privacy.reauth import reauthenticate
from productions.models import Production
from productions.services import production_delete
from synthesis.erasure import owner_jobs_cancel, owner_synthesis_erase
from synthesis.models import SynthesisJob
from voices.models import CloningAttestation, ConsentRecord, Voice, VoiceConsent, VoiceSample
from voices.services import voice_delete
from voices.services.consents import voice_consent_delete


@dataclass(frozen=True)
class Erased:
    """What an erasure removed, for the caller's message (never stored)."""

    user_id: int
    voices: int
    jobs: int
    productions: int


def account_erase_own(*, user: User, password: str | None, confirm_username: str) -> Erased:
    """A person erases their own account: they type its username and prove again who
    they are (privacy.reauth); a 400 or 403 otherwise, and nothing is touched."""
    if confirm_username != user.username:
        raise ApiError(
            "Type your username exactly to confirm that this account and everything in it is erased.",
            details={"confirm_username": [f"Type {user.username} to confirm."]},
        )
    reauthenticate(user=user, password=password, purpose="account.erase")
    return account_erase(user=user, by=None)


def account_erase(*, user: User, by: User | None) -> Erased:
    """Erase `user` and everything of theirs; `by` is the staff member doing it (None:
    the person themself). The caller has checked who may."""
    user_id, username = user.pk, user.username
    _switch_off(user)
    key_ids = [str(pk) for pk in user.api_keys.values_list("pk", flat=True)]
    key_prefixes = list(user.api_keys.values_list("prefix", flat=True))
    object_ids = _object_ids(user_id)

    productions = list(Production.objects.filter(owner_id=user_id))
    for production in productions:
        production_delete(production=production)  # cancels its segments, deletes jobs and files
    media.remove_owner_production_dir(owner_id=user_id)

    owner_jobs_cancel(owner_id=user_id)
    jobs = owner_synthesis_erase(owner_id=user_id)

    voices = list(Voice.objects.owned_by(user).defer("conditioning"))
    for voice in voices:
        voice_delete(voice=voice)  # samples, conditioning; files after commit (voices.signals)
        media.remove_preview_dir(voice.pk)
    for consent in VoiceConsent.objects.filter(owner_id=user_id):
        voice_consent_delete(consent=consent)
    # The consent evidence goes with the voices it was for: it names the person, their
    # address and the hashes of their recordings.
    ConsentRecord.objects.filter(user_id=user_id).delete()
    CloningAttestation.objects.filter(user_id=user_id).delete()

    for export in DataExport.objects.filter(owner_id=user_id):
        if export.file:
            media.unlink_quietly(media.absolute(export.file))
    DataExport.objects.filter(owner_id=user_id).delete()
    media.remove_owner_export_dir(owner_id=user_id)

    _sessions_delete(user_id)
    _admin_log_delete(user_id, object_ids, key_ids)
    # Before the row goes: deleting it sets the entries' user to NULL, losing which they were.
    _audit_anonymise(
        user_id=user_id, username=username, key_prefixes=key_prefixes, key_ids=key_ids, object_ids=object_ids
    )
    user.delete()  # the keys and anything left go with it
    audit_record(
        action="account.erased",
        # Nobody is named: the erased account's name is content, and a staff member's
        # erasure names the staff member instead.
        user=by if by is not None else AnonymousUser(),
        api_key_prefix="",
        target_type="user",
        target_id=str(user_id),
        details={"by": "staff" if by is not None else "self"},
        keep_user_agent=False,
    )
    return Erased(user_id=user_id, voices=len(voices), jobs=jobs, productions=len(productions))


def _switch_off(user: User) -> None:
    """No new sign-in, key use or job from here on; open sockets close."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    now = timezone.now()
    for key_id in user.api_keys.filter(revoked_at__isnull=True).values_list("pk", flat=True):
        user.api_keys.filter(pk=key_id).update(revoked_at=now)
        close_key_sockets(api_key_id=key_id)


def _sessions_delete(user_id: int) -> None:
    """Every signed-in session of the user (the database session store)."""
    for session in Session.objects.all().iterator(chunk_size=500):
        data: dict[str, Any] = session.get_decoded()
        if str(data.get("_auth_user_id", "")) == str(user_id):
            session.delete()


def _object_ids(user_id: int) -> list[str]:
    """The ids of everything the account owns (all UUIDs, unique across tables): what
    the audit log and the admin's history name as their targets."""
    ids: list[str] = []
    for queryset in (
        Production.objects.filter(owner_id=user_id),
        SynthesisJob.objects.filter(owner_id=user_id),
        Voice.objects.filter(owner_id=user_id, is_builtin=False),
        VoiceSample.objects.filter(voice__owner_id=user_id),
        VoiceConsent.objects.filter(owner_id=user_id),
        ConsentRecord.objects.filter(user_id=user_id),
        CloningAttestation.objects.filter(user_id=user_id),
        DataExport.objects.filter(owner_id=user_id),
    ):
        ids += [str(pk) for pk in queryset.values_list("pk", flat=True).iterator(chunk_size=2000)]
    return ids


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)] or [[]]


def _admin_log_delete(user_id: int, object_ids: list[str], key_ids: list[str]) -> None:
    """The admin's history of the user's account and objects (it keeps their names)."""
    user_type = ContentType.objects.get_for_model(User)
    key_type = ContentType.objects.get_for_model(APIKey)
    LogEntry.objects.filter(
        Q(user_id=user_id)
        | Q(content_type=user_type, object_id=str(user_id))
        | Q(content_type=key_type, object_id__in=key_ids)
    ).delete()
    for chunk in _chunks(object_ids):
        LogEntry.objects.filter(object_id__in=chunk).delete()


_ANONYMOUS = {
    "user": None,
    "username": "",
    "api_key_prefix": "",
    "target_id": "",
    "client_ip": None,
    "user_agent": "",
    "request_id": "",
    "details": {},
}


def _audit_anonymise(
    *, user_id: int, username: str, key_prefixes: list[str], key_ids: list[str], object_ids: list[str]
) -> None:
    """The audit log keeps that things happened and when, not who or what: every entry
    by or about the erased account and its objects loses its names, addresses, ids and
    details."""
    about = (
        Q(user_id=user_id)
        | Q(username=username)
        | Q(target_type="user", target_id=str(user_id))
        | Q(target_type="api_key", target_id__in=key_ids)
        | Q(api_key_prefix__in=key_prefixes)
    )
    AuditEvent.objects.filter(about).update(**_ANONYMOUS)
    for chunk in _chunks(object_ids):
        AuditEvent.objects.filter(target_id__in=chunk).update(**_ANONYMOUS)
