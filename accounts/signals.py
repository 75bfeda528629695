"""Sign-in outcomes from every login form (dashboard and admin) go to the audit log.
A credential's end closes its websockets: signing out closes the session's sockets, a
deactivated or deleted user's sockets all close (realtime.events_consumer re-checks too)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import User
from accounts.services import login_failure_record, login_success_record
from core.events import close_session_sockets, close_user_sockets
from core.http import client_ip


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django passes the request when the sign-in came from one (a form), else None.
    address = client_ip(request) if request is not None else None
    login_failure_record(client_ip=address, username=str(credentials.get("username", "")))


@receiver(user_logged_in)
def _on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
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
