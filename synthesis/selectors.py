"""Reads: the owner's history with filters (parsed in synthesis/filters.py), and usage aggregates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.db.models import Count, FloatField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from accounts.models import User
from core.errors import ApiError
from synthesis.filters import HistoryFilters
from synthesis.models import SynthesisJob, UsageRecord


def job_history(*, user: User, filters: HistoryFilters | None = None) -> QuerySet[SynthesisJob]:
    """The user's jobs (previews and long-form segments are not history: a production
    lists its own), filtered and ordered; `filters` come from HistoryFilters.parse
    (synthesis/filters.py), already valid."""
    filters = filters or HistoryFilters()
    jobs = SynthesisJob.objects.filter(owner=user).exclude(
        mode__in=(SynthesisJob.Mode.PREVIEW, SynthesisJob.Mode.SEGMENT)
    )
    if filters.statuses:
        jobs = jobs.filter(status__in=filters.statuses)
    if filters.voice:
        by_name = Q(voice_name__iexact=filters.voice)
        voice_id = filters.voice_id
        jobs = jobs.filter(by_name | Q(voice_id=voice_id) if voice_id else by_name)
    if filters.language:
        jobs = jobs.filter(language=filters.language)
    if filters.start:
        jobs = jobs.filter(queued_at__gte=filters.start)
    if filters.stop:
        jobs = jobs.filter(queued_at__lt=filters.stop)
    if filters.q:
        jobs = jobs.filter(text__icontains=filters.q)
    return jobs.order_by(filters.ordering)


GROUPS = ("day", "key", "voice")


def usage_summary(*, user: User, start: datetime | None, stop: datetime | None, group_by: str) -> dict[str, Any]:
    if group_by not in GROUPS:
        raise ApiError("Unknown group_by.", details={"group_by": [f"Choose from {', '.join(GROUPS)}."]})
    records = UsageRecord.objects.filter(user=user)
    if start:
        records = records.filter(created_at__gte=start)
    if stop:
        records = records.filter(created_at__lt=stop)
    metrics = {
        "characters": Coalesce(Sum("characters"), 0),
        "words": Coalesce(Sum("words"), 0),
        "audio_seconds": Coalesce(Sum("audio_seconds"), Value(0.0), output_field=FloatField()),
        "jobs": Count("id", filter=Q(succeeded=True)),
        "failures": Count("id", filter=Q(succeeded=False)),
    }
    key_field = {"day": "day", "key": "api_key_prefix", "voice": "voice_name"}[group_by]
    grouped = records.annotate(day=TruncDate("created_at")) if group_by == "day" else records
    rows = grouped.values(key_field).annotate(**metrics).order_by(key_field)
    totals = records.aggregate(**metrics)
    return {
        "from": start.isoformat() if start else None,
        "to": stop.isoformat() if stop else None,
        "group_by": group_by,
        "totals": _round(totals),
        "groups": [{"key": _key(row[key_field]), **_round({k: row[k] for k in metrics})} for row in rows],
    }


def _key(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return value or "session"  # usage without an API key came from the dashboard


def _round(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in values.items()}
