"""Reads of accounts' rows for the API and the dashboard."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import APIKey, User


def apikeys_listed(*, user: User) -> QuerySet[APIKey]:
    """The keys the owner sees in the API and the dashboard, newest first: all but the
    revoked ones the owner took off the list (`accounts.services.apikey_delete`)."""
    return APIKey.objects.filter(user=user, removed_at__isnull=True)
