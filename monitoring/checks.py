"""System checks for the monitoring settings: fail at start-up, not on the first scrape."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Info, Tags, register

from monitoring.access import parse_allowed_ips


@register()
def check_metrics_allowed_ips(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:

    errors: list[CheckMessage] = []
    for entry in settings.METRICS_ALLOWED_IPS:
        try:
            parse_allowed_ips((entry,))
        except ValueError as exc:
            errors.append(
                Error(
                    f"METRICS_ALLOWED_IPS has an entry that is not an IP address or network: {entry!r} ({exc})",
                    hint="Use addresses or CIDR networks separated by commas, e.g. 10.0.0.5,10.1.0.0/16.",
                    id="monitoring.E001",
                )
            )
    return errors


@register(Tags.security, deploy=True)
def check_metrics_protected(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """`check --deploy`: in production /metrics and /prometheus answer 403 to everyone
    until a token or an allow-list says who may scrape them. That is the safe state, so
    this is an Info (a deploy with --fail-level WARNING still passes), there to say why
    the scraper is refused."""
    if not settings.PRODUCTION or settings.METRICS_TOKEN or settings.METRICS_ALLOWED_IPS:
        return []
    return [
        Info(
            "Neither METRICS_TOKEN nor METRICS_ALLOWED_IPS is set, so /metrics and /prometheus refuse every "
            "request (403) in production: their platform-wide figures are never public.",
            hint="Set METRICS_TOKEN (Prometheus sends it as a bearer token) or METRICS_ALLOWED_IPS "
            "(the scrapers' addresses or networks).",
            id="monitoring.I001",
        )
    ]
