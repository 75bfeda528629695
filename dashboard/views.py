"""Dashboard pages. Server-rendered from the same selectors and services the API uses;
changes (creating a voice, a job, a key) go through the JSON API from the page's
JavaScript, so the dashboard and API clients share one code path and one error body.
Chart geometry lives in charts.py, form widgets and help texts in widgets.py."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import SCOPES, APIKey
from accounts.selectors import apikeys_listed
from core.errors import ApiError
from dashboard.charts import usage_charts
from dashboard.widgets import (
    CLONING_OFF_FOR_USERS,
    EMOTION_HELP,
    SCOPE_HELP,
    SLIDERS,
    language_choices,
    language_name,
    percent,
    usage_presets,
)
from speech import audio as audiomod
from speech.engines.params import PARAM_RANGES, SynthesisParams
from speech.text import DEFAULT_EMOTION, EMOTIONS
from synthesis.filters import HistoryFilters, parse_when
from synthesis.models import SynthesisJob
from synthesis.quotas import month_start, quota_state
from synthesis.selectors import job_history, usage_summary
from voices.models import CLONING_ATTESTATION_STATEMENT, CONSENT_STATEMENT, CloningAttestation, Voice
from voices.selectors import (
    cloning_engine_info,
    voice_blend_candidates,
    voice_blend_sources,
    voice_get_visible,
    voice_list,
)
from voices.services.attestation import attestation_accept, attestation_current, attestation_revoke
from voices.services.blends import MAX_SOURCES, MIN_SOURCES

HISTORY_PAGE_SIZE = 20
USAGE_DEFAULT_DAYS = 30
USAGE_MAX_DAYS = 366


def _page(
    request: HttpRequest, section: str, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(
        request, template, {"section": section, "cloning_off_message": CLONING_OFF_FOR_USERS, **context}, status=status
    )


# ------------------------------------------------------------------------- home


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    quota = quota_state(user=user)
    month = usage_summary(user=user, start=month_start(), stop=None, group_by="day")["totals"]
    recent = list(job_history(user=user)[:6])
    own_voices = Voice.objects.owned_by(user).count()
    return _page(
        request,
        "home",
        "dashboard/home.html",
        {
            "quota": quota,
            "quota_used": quota.used + quota.reserved,
            "quota_percent": percent(quota.used + quota.reserved, quota.limit),
            "month": month,
            "recent": recent,
            "active_ids": [str(job.pk) for job in recent if job.is_active],
            "own_voices": own_voices,
            "has_keys": APIKey.objects.filter(user=user, revoked_at__isnull=True).exists(),
        },
    )


# ----------------------------------------------------------------------- voices


@login_required
@require_GET
def voices(request: HttpRequest) -> HttpResponse:
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


@login_required
@require_GET
def voice_blend(request: HttpRequest) -> HttpResponse:
    """The form that blends voices; it posts to /api/v1/voices/blend from voice-blend.js.
    `?voice=<id>` preselects the first source (the link on a voice's page)."""
    cloning = cloning_engine_info()
    candidates = voice_blend_candidates(user=request.user)
    return _page(
        request,
        "voices",
        "dashboard/voice_blend.html",
        {
            "cloning": cloning,
            "candidates": candidates,
            "own_candidates": [v for v in candidates if not v.is_builtin],
            "builtin_candidates": [v for v in candidates if v.is_builtin],
            "rows": range(MAX_SOURCES),
            "min_sources": MIN_SOURCES,
            "max_sources": MAX_SOURCES,
            "preselected": request.GET.get("voice", ""),
            "languages": language_choices(cloning.languages),
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
            "job_count": job_history(user=request.user, filters=HistoryFilters(voice=str(voice.pk))).count(),
            "settings_fields": _voice_settings_fields(voice) if owned else [],
            "blend_sources": voice_blend_sources(voice=voice),
            "blendable": any(v.pk == voice.pk for v in voice_blend_candidates(user=request.user)),
        },
    )


# The voice page's default settings, in the order shown: (key, label, step, help).
VOICE_SETTINGS_FIELDS = (
    ("speed", "Speed", "0.05", "1 is natural pace"),
    ("temperature", "Temperature", "0.01", "higher varies more (XTTS)"),
    ("top_p", "Top p", "0.01", "XTTS sampling"),
    ("top_k", "Top k", "1", "XTTS sampling"),
    ("repetition_penalty", "Repetition penalty", "0.1", "XTTS"),
    ("length_penalty", "Length penalty", "0.1", "XTTS"),
    ("seed", "Seed", "1", "the same seed and text give the same audio"),
)


def _voice_settings_fields(voice: Voice) -> list[dict[str, Any]]:
    """Each default setting with the voice's value (empty: the engine's default, shown
    as the placeholder) and its range (speech.engines.params.PARAM_RANGES)."""
    defaults = SynthesisParams()
    own = voice.settings or {}
    fields = []
    for key, label, step, help_text in VOICE_SETTINGS_FIELDS:
        low, high, _, _ = PARAM_RANGES[key]
        default = getattr(defaults, key)
        fields.append(
            {
                "key": key,
                "label": label,
                "step": step,
                "help": help_text,
                "min": low,
                "max": high,
                "value": "" if own.get(key) is None else own[key],
                "placeholder": "none" if default is None else default,
            }
        )
    return fields


# --------------------------------------------------------------------- generate


@login_required
@require_GET
def generate(request: HttpRequest) -> HttpResponse:
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

# The filters the page's form offers; HistoryFilters.parse (synthesis/filters.py) reads
# them with the API's rules, so a bad one is the API's 400 message shown on the page.
HISTORY_FORM_FIELDS = ("status", "voice", "language", "from", "to", "q")
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
    # Stripped: a form field with stray spaces around it means the same filter.
    form = {name: request.GET.get(name, "").strip() for name in HISTORY_FORM_FIELDS}
    kept = {k: v for k, v in form.items() if v}
    page_size = _page_size(request.GET.get("page_size"))
    error: ApiError | None = None
    try:
        jobs = job_history(user=request.user, filters=HistoryFilters.parse(kept))
        paginator = Paginator(jobs, page_size)
        page = paginator.get_page(request.GET.get("page"))
    except ApiError as exc:
        error = exc
        paginator = Paginator(SynthesisJob.objects.none(), page_size)
        page = paginator.get_page(1)
    if page_size != HISTORY_PAGE_SIZE:
        kept["page_size"] = str(page_size)
    mine = job_history(user=request.user).order_by()
    return _page(
        request,
        "history",
        "dashboard/history.html",
        {
            "page": page,
            "paginator": paginator,
            "filters": form,
            "filtered": any(form.values()),
            "page_size": page_size,
            "page_sizes": HISTORY_PAGE_SIZES,
            "base_query": urlencode(kept),
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
            "keys": list(apikeys_listed(user=request.user)),
            "scopes": [(scope, SCOPE_HELP.get(scope, "")) for scope in SCOPES],
            "a_minute_ago": timezone.now() - timedelta(minutes=1),
            "min_expiry": (timezone.localdate() + timedelta(days=1)).isoformat(),
        },
    )


# ------------------------------------------------------------------------ usage


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


def _named_keys(user: Any, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Usage per key, each with the name its owner gave it (the usage rows keep the prefix)."""
    names = dict(APIKey.objects.filter(user=user).values_list("prefix", "name"))
    return [{**group, "name": names.get(group["key"], "")} for group in groups]


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
    start = datetime.combine(first, time.min, tzinfo=UTC)
    stop = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    by_day = usage_summary(user=user, start=start, stop=stop, group_by="day")
    by_voice = usage_summary(user=user, start=start, stop=stop, group_by="voice")
    by_key = usage_summary(user=user, start=start, stop=stop, group_by="key")
    charts, table = usage_charts(first=first, last=last, by_day=by_day)
    return _page(
        request,
        "usage",
        "dashboard/usage.html",
        {
            "first": first,
            "last": last,
            "error": error,
            "totals": by_day["totals"],
            "charts": charts,
            "table": table,
            "by_voice": by_voice["groups"],
            "by_key": _named_keys(user, by_key["groups"]),
            "quota": quota,
            "quota_used": quota.used + quota.reserved,
            "quota_percent": percent(quota.used + quota.reserved, quota.limit),
            "presets": usage_presets(),
        },
        status=400 if error else 200,
    )


# ------------------------------------------------------------ cloning attestation


@login_required
@require_http_methods(["GET", "POST"])
def cloning_attestation(request: HttpRequest) -> HttpResponse:
    """Accept or withdraw the account's standing cloning attestation (what the
    ElevenLabs-compatible /v1/voices/add requires). A plain form: it works without JS."""
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "accept" and request.POST.get("accept") == "true":
            attestation_accept(user=request.user, via=CloningAttestation.Via.DASHBOARD)
            return redirect("cloning-attestation")
        if action == "revoke":
            attestation_revoke(user=request.user)
            return redirect("cloning-attestation")
        error = "Tick the box to accept the statement."
    return _page(
        request,
        "voices",
        "dashboard/cloning_attestation.html",
        {
            "attestation": attestation_current(user=request.user),
            "statement": CLONING_ATTESTATION_STATEMENT,
            "error": error,
        },
        status=400 if error else 200,
    )
