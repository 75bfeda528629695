"""Sign-in outcomes from every login form go to the audit log, and so do the account
changes made through allauth: password reset and change, email addresses, two-factor
authenticators (added, removed, recovery codes regenerated) and failed codes.
A credential's end closes its websockets: signing out closes the session's sockets, a
deactivated or deleted user's sockets all close (realtime.events_consumer re-checks too)."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import User
from accounts.reauthentication import session_signed_in
from accounts.services import account_event_record, login_failure_record, login_success_record, mfa_failure_record
from core.events import close_session_sockets, close_user_sockets
from core.http import client_ip


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django passes the request when the sign-in came from one (a form), else None.
    address = client_ip(request) if request is not None else None
    # allauth signs in by username or by email: whichever was typed names the attempt.
    typed = credentials.get("username") or credentials.get("email") or ""
    login_failure_record(client_ip=address, username=str(typed))


@receiver(user_logged_in)
def _on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None:
        session_signed_in(request=request)
    login_success_record(user=user)


@receiver(user_logged_out)
def _on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        close_session_sockets(session_key=session_key, reason="signed out")


@receiver(post_save, sender=User)
def _on_user_saved(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    if not created and not instance.is_active:
        user_id = instance.pk
        transaction.on_commit(lambda: close_user_sockets(user_id=user_id, reason="deactivated"))


@receiver(post_delete, sender=User)
def _on_user_deleted(sender: Any, instance: User, **kwargs: Any) -> None:
    user_id = instance.pk
    transaction.on_commit(lambda: close_user_sockets(user_id=user_id, reason="deleted"))


@receiver(account_signals.password_reset)
def _on_password_reset(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    account_event_record(action="auth.password_reset", user=user)


@receiver(account_signals.password_changed)
def _on_password_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    account_event_record(action="auth.password_changed", user=user)


@receiver(account_signals.email_added)
def _on_email_added(sender: Any, request: Any, user: Any, email_address: Any, **kwargs: Any) -> None:
    account_event_record(action="email.added", user=user, email=email_address.email)


@receiver(account_signals.email_confirmed)
def _on_email_confirmed(sender: Any, request: Any, email_address: Any, **kwargs: Any) -> None:
    account_event_record(action="email.verified", user=email_address.user, email=email_address.email)


@receiver(account_signals.email_changed)
def _on_email_changed(
    sender: Any, request: Any, user: Any, from_email_address: Any, to_email_address: Any, **kwargs: Any
) -> None:
    old = from_email_address.email if from_email_address else None
    account_event_record(action="email.changed", user=user, old=old, new=to_email_address.email)


@receiver(mfa_signals.authenticator_added)
def _on_authenticator_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    account_event_record(action="mfa.added", user=user, type=authenticator.type)


@receiver(mfa_signals.authenticator_removed)
def _on_authenticator_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    account_event_record(action="mfa.removed", user=user, type=authenticator.type)


@receiver(mfa_signals.authenticator_reset)
def _on_authenticator_reset(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    account_event_record(action="mfa.reset", user=user, type=authenticator.type)


@receiver(mfa_signals.authentication_failed)
def _on_mfa_failed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    mfa_failure_record(user=user, authenticator_type=authenticator.type)
