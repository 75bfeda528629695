"""The history filters, parsed once: `HistoryFilters.parse` reads the query of the API's
history (GET /api/v1/synthesis) and of the dashboard's history page, so both apply the
same rules and refuse the same input with the same 400 (an ApiError). `parse_when` is
the one parser of `from`/`to`, for history and usage alike.
See docs/api.md "Speech: jobs and streams"."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from core.errors import ApiError
from synthesis.models import SynthesisJob

_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The dates a filter may name. Beyond them date arithmetic overflows (the day after
# `to=9999-12-31`), and no job is that old or that new.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2999, 12, 31)

ORDERINGS = ("queued_at", "-queued_at")


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
        moment = timezone.make_aware(moment, UTC)
    return moment


def _parse_statuses(value: str) -> tuple[str, ...]:
    wanted = value.split(",")
    choices = ", ".join(SynthesisJob.Status.values)
    # "queued,,running" or "queued," is a malformed list, refused as the schema's
    # pattern says, not read as "queued,running".
    if "" in wanted:
        raise ApiError(
            f"status {value!r} has an empty item: give statuses separated by single commas, e.g. queued,running.",
            details={"status": [f"A comma list of: {choices}."]},
        )
    unknown = sorted(set(wanted) - set(SynthesisJob.Status.values))
    if unknown:
        raise ApiError(
            f"Unknown status {', '.join(map(repr, unknown))}: choose from {choices}.",
            details={"status": [f"Choose from {choices}."]},
        )
    return tuple(wanted)


@dataclass(frozen=True)
class HistoryFilters:
    """A history query, valid by construction when made by `parse`. Empty means "any"."""

    statuses: tuple[str, ...] = ()
    voice: str = ""  # a voice's name (case-insensitive) or id
    language: str = ""  # lower case
    start: datetime | None = None  # inclusive
    stop: datetime | None = None  # exclusive (a bare `to` date already moved to the next midnight)
    q: str = ""  # the text contains it, case-insensitive
    ordering: str = "-queued_at"

    @property
    def voice_id(self) -> uuid.UUID | None:
        """`voice` as an id, when it reads as one (a name that is a UUID matches either)."""
        try:
            return uuid.UUID(self.voice) if self.voice else None
        except ValueError:
            return None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> HistoryFilters:
        """From a query (QueryDict or dict of strings); a missing or empty parameter is no
        filter (but `ordering`, when given, must be one of ORDERINGS). Raises ApiError (400)
        naming the parameter and how to fix it."""
        # Checked in this order, so a query with several bad parameters names the same one
        # first wherever it is sent.
        status = params.get("status")
        statuses = _parse_statuses(status) if status else ()
        start = parse_when(params.get("from"), "from")
        stop = parse_when(params.get("to"), "to", end=True)
        # An empty `ordering=` is refused like any value outside the schema's enum.
        ordering = params.get("ordering", "-queued_at")
        if ordering not in ORDERINGS:
            raise ApiError("Unknown ordering.", details={"ordering": ["Use queued_at or -queued_at."]})
        return cls(
            statuses=statuses,
            voice=params.get("voice") or "",
            language=(params.get("language") or "").lower(),
            start=start,
            stop=stop,
            q=params.get("q") or "",
            ordering=ordering,
        )
