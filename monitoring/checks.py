"""System checks for the monitoring settings: fail at start-up, not on the first scrape."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register()
def check_metrics_allowed_ips(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from monitoring.access import parse_allowed_ips

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
