"""Invitations (SIGNUP_MODE=invite): created by staff, sent by email, accepted once.

Only a SHA-256 of an invitation's token is stored; the link that carries the token is
shown to the staff member who made it and mailed to the invitee, never kept."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, User
from monitoring.services import audit_record

SESSION_KEY = "speaker_invitation_token"


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    url: str  # the only place the token exists


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(*, request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(f"{reverse('account_signup')}?invitation={token}")


def invitation_create(
    *,
    request: HttpRequest,
    email: str,
    created_by: User | None,
    monthly_character_quota: int | None = None,
    days: int | None = None,
    expires_at: datetime | None = None,
) -> NewInvitation:
    """Store the invitation and mail its link to `email`. It expires at `expires_at`, or
    after `days` (INVITATION_DAYS when neither is given)."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email.strip().lower(),
        token_hash=_hash(token),
        monthly_character_quota=monthly_character_quota,
        created_by=created_by,
        expires_at=expires_at or timezone.now() + timedelta(days=days or settings.INVITATION_DAYS),
    )
    url = invitation_url(request=request, token=token)
    send_mail(
        f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}You are invited to Speaker",
        f"You are invited to create an account on Speaker.\n\nOpen this link to choose a user name and "
        f"password (it works once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n\n{url}\n",
        None,
        [invitation.email],
    )
    audit_record(
        action="invitation.created",
        user=created_by,
        target_type="invitation",
        target_id=str(invitation.pk),
        details={"email": invitation.email, "expires_at": invitation.expires_at.isoformat()},
    )
    return NewInvitation(invitation=invitation, url=url)


def invitation_usable(*, token: str | None) -> Invitation | None:
    """The invitation the token opens, while it is unused and unexpired; else None."""
    if not token:
        return None
    invitation = Invitation.objects.filter(token_hash=_hash(token)).first()
    return invitation if invitation is not None and invitation.is_usable else None


def invitation_accept(*, token: str, user: User) -> Invitation | None:
    """Spend the invitation on `user` (created by it): once only, even when two sign-ups
    race with one link (a conditional update, not a read then a write). Applies its
    quota. None when it is no longer usable: the caller rolls the sign-up back."""
    with transaction.atomic():
        spent = Invitation.objects.filter(
            token_hash=_hash(token), accepted_at__isnull=True, expires_at__gt=timezone.now()
        ).update(accepted_at=timezone.now(), accepted_by=user)
        if not spent:
            return None
        invitation = Invitation.objects.get(token_hash=_hash(token))
        if invitation.monthly_character_quota is not None:
            user.monthly_character_quota = invitation.monthly_character_quota
            user.save(update_fields=["monthly_character_quota"])
    audit_record(
        action="invitation.accepted",
        user=user,
        target_type="invitation",
        target_id=str(invitation.pk),
        details={"email": invitation.email},
    )
    return invitation
