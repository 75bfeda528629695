"""Dashboard pages. Server-rendered from the same selectors and services the API uses;
changes (creating a voice, a job, a key) go through the JSON API from the page's
JavaScript, so the dashboard and API clients share one code path and one error body."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Any, Iterable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import get_language_info
from django.views.decorators.http import require_GET

from accounts.models import SCOPES, APIKey
from core.errors import ApiError
from speech import audio as audiomod
from speech.engines.params import PARAM_RANGES
from speech.engines.params import SynthesisParams
from synthesis.models import SynthesisJob
from synthesis.quotas import month_start, quota_state
from synthesis.selectors import job_history, parse_when, usage_summary
from speech.text import DEFAULT_EMOTION, EMOTIONS
from voices.models import CONSENT_STATEMENT, Voice
from voices.selectors import cloning_engine_info, voice_get_visible, voice_list
from voices.services import builtin_voices_sync

HISTORY_PAGE_SIZE = 20
USAGE_DEFAULT_DAYS = 30
USAGE_MAX_DAYS = 366

SCOPE_HELP = {
    "voices:read": "List voices and languages, download your samples",
    "voices:write": "Create, change and delete your voices and samples",
    "synthesis:write": "Generate speech, read history and usage, download audio",
    "keys:manage": "Create and revoke API keys",
}

EMOTION_HELP = {
    "neutral": "Plain reading (the default)",
    "happy": "Brighter and a little faster",
    "sad": "Slower and softer",
    "angry": "Faster and more forceful",
    "surprised": "Livelier, more varied",
    "whisper": "Quiet and breathy",
    "calm": "Slow and even",
}


@dataclass(frozen=True)
class Slider:
    """One synthesis parameter as a range input. Bounds and defaults come from
    `SynthesisParams` (the server's validation), labels and steps are the page's."""

    name: str
    label: str
    help: str
    step: float
    group: str  # "basic" (every engine) or "xtts" (sampling knobs of cloned voices)
    low_exclusive_step: bool = False

    @property
    def default(self) -> float:
        return getattr(SynthesisParams(), self.name)

    @property
    def min(self) -> float:
        low, _, low_incl, _ = PARAM_RANGES[self.name]
        return low if low_incl else low + self.step

    @property
    def max(self) -> float:
        _, high, _, high_incl = PARAM_RANGES[self.name]
        return high if high_incl else high - self.step


SLIDERS: tuple[Slider, ...] = (
    Slider("speed", "Speed", "1.0 is natural pace; 0.5 is half speed, 2.0 twice as fast.", 0.05, "basic"),
    Slider("variability", "Variability", "How much the delivery varies (built-in voices).", 0.001, "basic"),
    Slider("sentence_silence", "Pause between sentences (s)", "Silence after each sentence, in seconds.", 0.05, "basic"),
    Slider("temperature", "Temperature", "Higher is more expressive, lower more stable (cloned voices).", 0.01, "xtts"),
    Slider("top_p", "Top-p", "Sampling nucleus: lower is more conservative (cloned voices).", 0.01, "xtts"),
    Slider("top_k", "Top-k", "Sample among the k most likely tokens (cloned voices).", 1, "xtts"),
    Slider("repetition_penalty", "Repetition penalty", "Discourages repeated sounds (cloned voices).", 0.5, "xtts"),
    Slider("length_penalty", "Length penalty", "Favours longer (positive) or shorter output (cloned voices).", 0.5, "xtts"),
)


def language_name(code: str) -> str:
    try:
        return str(get_language_info(code)["name"])
    except KeyError:
        return code


def language_choices(codes: Iterable[str]) -> list[dict[str, str]]:
    return [{"code": code, "name": language_name(code)} for code in codes]


def _page(request: HttpRequest, section: str, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, template, {"section": section, **context}, status=status)


# ------------------------------------------------------------------------- home


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    quota = quota_state(user=user)
    month = usage_summary(user=user, start=month_start(), stop=None, group_by="day")["totals"]
    recent = list(job_history(user=user, filters={})[:6])
    own_voices = Voice.objects.owned_by(user).count()
    return _page(
        request,
        "home",
        "dashboard/home.html",
        {
            "quota": quota,
            "quota_used": quota.used + quota.reserved,
            "quota_percent": _percent(quota.used + quota.reserved, quota.limit),
            "month": month,
            "recent": recent,
            "active_ids": [str(job.pk) for job in recent if job.is_active],
            "own_voices": own_voices,
            "has_keys": APIKey.objects.filter(user=user, revoked_at__isnull=True).exists(),
        },
    )


def _percent(part: float, whole: float) -> int:
    if whole <= 0:
        return 100
    return max(0, min(100, round(100 * part / whole)))


# ----------------------------------------------------------------------- voices


@login_required
@require_GET
def voices(request: HttpRequest) -> HttpResponse:
    builtin_voices_sync()
    listed = list(voice_list(user=request.user))
    return _page(
        request,
        "voices",
        "dashboard/voices.html",
        {
            "builtin": [v for v in listed if v.is_builtin],
            "own": [v for v in listed if not v.is_builtin],
            "cloning": cloning_engine_info(),
            "watch_ids": [str(v.pk) for v in listed if not v.is_builtin and v.status == Voice.Status.PROCESSING],
        },
    )


def _upload_limits() -> dict[str, Any]:
    return {
        "emotions_json": json.dumps(list(EMOTIONS)),
        "min_seconds": settings.VOICE_SAMPLE_MIN_SECONDS,
        "max_seconds": settings.VOICE_SAMPLE_MAX_SECONDS,
        "max_samples": settings.VOICE_MAX_SAMPLES,
        "max_bytes": settings.VOICE_SAMPLE_MAX_BYTES,
        "max_mib": round(settings.VOICE_SAMPLE_MAX_BYTES / 1_048_576, 1),
    }


@login_required
@require_GET
def voice_new(request: HttpRequest) -> HttpResponse:
    cloning = cloning_engine_info()
    return _page(
        request,
        "voices",
        "dashboard/voice_new.html",
        {
            "cloning": cloning,
            "languages": language_choices(cloning.languages),
            "consent_statement": CONSENT_STATEMENT,
            "emotions": EMOTIONS,
            "default_emotion": DEFAULT_EMOTION,
            "limits": _upload_limits(),
        },
    )


def _preview_url(voice: Voice) -> str | None:
    """The preview endpoint, when this server has one."""
    url = f"/api/v1/voices/{voice.pk}/preview"
    try:
        resolve(url)
    except Resolver404:
        return None
    return url


@login_required
@require_GET
def voice_detail(request: HttpRequest, voice_id: Any) -> HttpResponse:
    voice = voice_get_visible(user=request.user, voice_id=voice_id)
    owned = not voice.is_builtin and voice.owner_id == request.user.pk
    return _page(
        request,
        "voices",
        "dashboard/voice_detail.html",
        {
            "voice": voice,
            "owned": owned,
            "samples": list(voice.samples.all()) if owned else [],
            "languages": language_choices(voice.languages or [voice.language]),
            "voice_language_name": language_name(voice.language),
            "clone_languages": language_choices(cloning_engine_info().languages) if owned else [],
            "preview_url": _preview_url(voice) if voice.status == Voice.Status.READY else None,
            "consent_statement": CONSENT_STATEMENT,
            "emotions": EMOTIONS,
            "default_emotion": DEFAULT_EMOTION,
            "limits": _upload_limits(),
            "job_count": job_history(user=request.user, filters={"voice": str(voice.pk)}).count(),
        },
    )


# --------------------------------------------------------------------- generate


@login_required
@require_GET
def generate(request: HttpRequest) -> HttpResponse:
    builtin_voices_sync()
    listed = list(voice_list(user=request.user))
    wanted = request.GET.get("voice", "")
    selected = next((v for v in listed if str(v.pk) == wanted or v.name == wanted), None)
    if selected is None or not selected.is_ready:
        selected = next((v for v in listed if v.is_builtin and v.is_ready), None) or next(
            (v for v in listed if v.is_ready), None
        )
    voice_data = [
        {
            "id": str(v.pk),
            "name": v.name,
            "builtin": v.is_builtin,
            "ready": v.is_ready,
            "status": v.status,
            "engine": v.engine,
            "language": v.language,
            "languages": language_choices(v.languages or [v.language]),
        }
        for v in listed
    ]
    quota = quota_state(user=request.user)
    defaults = SynthesisParams()
    return _page(
        request,
        "generate",
        "dashboard/generate.html",
        {
            "builtin": [v for v in listed if v.is_builtin],
            "own": [v for v in listed if not v.is_builtin],
            "selected": selected,
            "selected_languages": language_choices((selected.languages or [selected.language]) if selected else []),
            "voice_data": voice_data,
            "formats": audiomod.FORMATS,
            "stream_formats": ("pcm",),
            "sliders_basic": [s for s in SLIDERS if s.group == "basic"],
            "sliders_xtts": [s for s in SLIDERS if s.group == "xtts"],
            "emotions": [(e, EMOTION_HELP.get(e, "")) for e in EMOTIONS],
            "default_emotion": DEFAULT_EMOTION,
            "quota": quota,
            "max_text_length": settings.MAX_TEXT_LENGTH,
            "defaults": {"seed": defaults.seed, **{s.name: s.default for s in SLIDERS}},
            "initial_text": request.GET.get("text", "")[: settings.MAX_TEXT_LENGTH],
        },
    )


# ---------------------------------------------------------------------- history

HISTORY_FILTERS = ("status", "voice", "language", "from", "to", "q")
HISTORY_PAGE_SIZES = (10, 20, 50, 100)


def _page_size(value: str | None) -> int:
    """`page_size` as the API takes it: 1 to 100, else the default."""
    try:
        return max(1, min(100, int(value or HISTORY_PAGE_SIZE)))
    except ValueError:
        return HISTORY_PAGE_SIZE


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    filters = {name: request.GET.get(name, "").strip() for name in HISTORY_FILTERS}
    page_size = _page_size(request.GET.get("page_size"))
    # `from`/`to` go to the API's own parser (selectors.parse_when): a bare `to` date
    # includes its whole day, and a date that is not real is an ApiError shown as a 400.
    query = {k: v for k, v in filters.items() if v}
    error: ApiError | None = None
    try:
        jobs = job_history(user=request.user, filters=query)
        paginator = Paginator(jobs, page_size)
        page = paginator.get_page(request.GET.get("page"))
    except ApiError as exc:
        error = exc
        paginator = Paginator(SynthesisJob.objects.none(), page_size)
        page = paginator.get_page(1)
    kept = {k: v for k, v in filters.items() if v}
    if page_size != HISTORY_PAGE_SIZE:
        kept["page_size"] = str(page_size)
    base_query = urlencode(kept)
    mine = job_history(user=request.user, filters={}).order_by()
    return _page(
        request,
        "history",
        "dashboard/history.html",
        {
            "page": page,
            "paginator": paginator,
            "filters": filters,
            "filtered": any(filters.values()),
            "page_size": page_size,
            "page_sizes": HISTORY_PAGE_SIZES,
            "base_query": base_query,
            "error": error,
            "statuses": SynthesisJob.Status.values,
            "voice_names": sorted(set(mine.values_list("voice_name", flat=True)), key=str.lower),
            "languages": language_choices(sorted(set(mine.values_list("language", flat=True)))),
            "formats": audiomod.FORMATS,
            "active_ids": [str(job.pk) for job in page.object_list if job.is_active],
        },
        status=400 if error else 200,
    )


# --------------------------------------------------------------------- API keys


@login_required
@require_GET
def keys(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "keys",
        "dashboard/keys.html",
        {
            # The API's own list: every key the user made, newest first.
            "keys": list(APIKey.objects.filter(user=request.user)),
            "scopes": [(scope, SCOPE_HELP.get(scope, "")) for scope in SCOPES],
            "a_minute_ago": timezone.now() - timedelta(minutes=1),
            "min_expiry": (timezone.localdate() + timedelta(days=1)).isoformat(),
        },
    )


# ------------------------------------------------------------------------ usage


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    text: str


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (y, label)
    empty: bool
    x_labels: list[tuple[float, str]]
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    total_text: str

    @property
    def center(self) -> tuple[float, float]:
        return ((self.plot_left + self.width) / 2, (self.plot_top + self.plot_bottom) / 2)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _number(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:,.1f} s" if value < 100 else f"{value:,.0f} s"
    return f"{value:,.0f}"


def bar_chart(*, title: str, unit: str, days: list[date], values: list[float], total: float) -> Chart:
    """An SVG bar chart's geometry (the template draws it; no JavaScript needed)."""
    width, height = 960, 220
    left, right, top, bottom = 56, 8, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max([*values, 10.0 if unit == "chars" else 1.0]))
    slot = plot_w / max(1, len(days))
    bar_w = max(1.0, slot * 0.72)
    bars = []
    for index, (day, value) in enumerate(zip(days, values)):
        h = 0.0 if value <= 0 else max(1.5, plot_h * value / top_value)
        bars.append(
            Bar(
                x=round(left + index * slot + (slot - bar_w) / 2, 2),
                y=round(top + plot_h - h, 2),
                width=round(bar_w, 2),
                height=round(h, 2),
                label=day.strftime("%a %d %b"),
                value=value,
                text=_number(value, unit),
            )
        )
    ticks = [(round(top + plot_h - plot_h * f, 2), _number(top_value * f, unit)) for f in (0, 0.5, 1)]
    every = max(1, math.ceil(len(days) / 8))
    x_labels = [
        (round(left + i * slot + slot / 2, 2), day.strftime("%d %b")) for i, day in enumerate(days) if i % every == 0
    ]
    return Chart(
        title, unit, bars, ticks, not any(values), x_labels, width, height, top, top + plot_h, left, _number(total, unit)
    )


def _usage_range(request: HttpRequest) -> tuple[date, date]:
    today = timezone.localdate()
    start_s, stop_s = request.GET.get("from", ""), request.GET.get("to", "")
    start = parse_when(start_s, "from") if start_s else None
    stop = parse_when(stop_s, "to") if stop_s else None
    last = stop.date() if stop else today
    first = start.date() if start else last - timedelta(days=USAGE_DEFAULT_DAYS - 1)
    if first > last:
        raise ApiError("from must be on or before to.", details={"from": ["Must be on or before the end date."]})
    if (last - first).days >= USAGE_MAX_DAYS:
        raise ApiError(
            f"Pick at most {USAGE_MAX_DAYS} days.", details={"from": [f"At most {USAGE_MAX_DAYS} days at a time."]}
        )
    return first, last


@login_required
@require_GET
def usage(request: HttpRequest) -> HttpResponse:
    user = request.user
    quota = quota_state(user=user)
    error: ApiError | None = None
    try:
        first, last = _usage_range(request)
    except ApiError as exc:
        error = exc
        last = timezone.localdate()
        first = last - timedelta(days=USAGE_DEFAULT_DAYS - 1)
    start = datetime.combine(first, time.min, tzinfo=dt_timezone.utc)
    stop = datetime.combine(last + timedelta(days=1), time.min, tzinfo=dt_timezone.utc)
    by_day = usage_summary(user=user, start=start, stop=stop, group_by="day")
    by_voice = usage_summary(user=user, start=start, stop=stop, group_by="voice")
    by_key = usage_summary(user=user, start=start, stop=stop, group_by="key")
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    rows = {group["key"]: group for group in by_day["groups"]}
    chars = [float(rows.get(d.isoformat(), {}).get("characters", 0)) for d in days]
    seconds = [float(rows.get(d.isoformat(), {}).get("audio_seconds", 0.0)) for d in days]
    totals = by_day["totals"]
    table = [
        {"day": d, **rows[d.isoformat()]} for d in reversed(days) if d.isoformat() in rows
    ]
    return _page(
        request,
        "usage",
        "dashboard/usage.html",
        {
            "first": first,
            "last": last,
            "error": error,
            "totals": totals,
            "charts": [
                bar_chart(title="Characters per day", unit="chars", days=days, values=chars, total=totals["characters"]),
                bar_chart(title="Audio seconds per day", unit="s", days=days, values=seconds, total=totals["audio_seconds"]),
            ],
            "table": table,
            "by_voice": by_voice["groups"],
            "by_key": by_key["groups"],
            "quota": quota,
            "quota_used": quota.used + quota.reserved,
            "quota_percent": _percent(quota.used + quota.reserved, quota.limit),
            "presets": _usage_presets(),
        },
        status=400 if error else 200,
    )


def _usage_presets() -> list[tuple[str, str]]:
    today = timezone.localdate()
    month_first = today.replace(day=1)
    return [
        ("Last 7 days", urlencode({"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()})),
        ("Last 30 days", urlencode({"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()})),
        ("This month", urlencode({"from": month_first.isoformat(), "to": today.isoformat()})),
        ("Last 90 days", urlencode({"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()})),
    ]
