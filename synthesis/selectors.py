"""Reads: the owner's history with filters, and usage aggregates."""

from __future__ import annotations

import re

from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Any, Mapping

from django.db.models import Count, FloatField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.models import User
from core.errors import ApiError
from synthesis.models import SynthesisJob, UsageRecord


_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# The dates a filter may name. Beyond them date arithmetic overflows (the day after
# `to=9999-12-31`), and no job is that old or that new.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def parse_when(value: str | None, field: str, *, end: bool = False) -> datetime | None:
    """ISO date or datetime; a bare date `to` means the end of that day.

    The one parser of the `from`/`to` filters of the API (history, usage) and the
    dashboard (history, usage pages): anything that is not a real date in range is an
    ApiError (400), never a ValueError or OverflowError from deeper down."""
    if not value:
        return None
    shown = value if len(value) <= 40 else f"{value[:40]}…"
    hint = {field: [f"Use YYYY-MM-DD or an ISO datetime, from {EARLIEST_DATE} to {LATEST_DATE}."]}
    try:
        # A bare date first: parse_datetime would read "2026-11-25" as that midnight, and
        # a `to` date must include its whole day.
        moment = None if _BARE_DATE.match(value) else parse_datetime(value)
        day = moment.date() if moment is not None else parse_date(value)
    except ValueError:  # well formed but not a date: 2026-02-30, 2026-13-45
        raise ApiError(f"{field} is not a real date: {shown!r}.", details=hint) from None
    if day is None:
        raise ApiError(f"{field} must be an ISO date or datetime, not {shown!r}.", details=hint)
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ApiError(f"{field} must be between {EARLIEST_DATE} and {LATEST_DATE}.", details=hint)
    if moment is None:
        moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt_timezone.utc)
    return moment


def job_history(*, user: User, filters: Mapping[str, str]) -> QuerySet[SynthesisJob]:
    jobs = SynthesisJob.objects.filter(owner=user).exclude(mode=SynthesisJob.Mode.PREVIEW)
    status = filters.get("status")
    if status:
        wanted = status.split(",")
        choices = ", ".join(SynthesisJob.Status.values)
        # "queued,,running" or "queued," is a malformed list, refused as the schema's
        # pattern says, not read as "queued,running".
        if "" in wanted:
            raise ApiError(
                f"status {status!r} has an empty item: give statuses separated by single commas, e.g. queued,running.",
                details={"status": [f"A comma list of: {choices}."]},
            )
        unknown = sorted(set(wanted) - set(SynthesisJob.Status.values))
        if unknown:
            raise ApiError(
                f"Unknown status {', '.join(map(repr, unknown))}: choose from {choices}.",
                details={"status": [f"Choose from {choices}."]},
            )
        jobs = jobs.filter(status__in=wanted)
    voice = filters.get("voice")
    if voice:
        by_name = Q(voice_name__iexact=voice)
        try:
            import uuid

            jobs = jobs.filter(by_name | Q(voice_id=uuid.UUID(voice)))
        except ValueError:
            jobs = jobs.filter(by_name)
    if filters.get("language"):
        jobs = jobs.filter(language=filters["language"].lower())
    start = parse_when(filters.get("from"), "from")
    stop = parse_when(filters.get("to"), "to", end=True)
    if start:
        jobs = jobs.filter(queued_at__gte=start)
    if stop:
        jobs = jobs.filter(queued_at__lt=stop)
    if filters.get("q"):
        jobs = jobs.filter(text__icontains=filters["q"])
    ordering = filters.get("ordering", "-queued_at")
    if ordering not in ("queued_at", "-queued_at"):
        raise ApiError("Unknown ordering.", details={"ordering": ["Use queued_at or -queued_at."]})
    return jobs.order_by(ordering)


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
