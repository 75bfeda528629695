"""Who may read `/metrics` and `/prometheus`.

Open when neither METRICS_TOKEN nor METRICS_ALLOWED_IPS is set (a laptop, the test
suite), except with ENVIRONMENT=production: there the platform-wide figures are never
public, so both answer 403 until one of them is set (the deploy check
`monitoring.I001` of `check --deploy` says why). Otherwise a client whose address is
in METRICS_ALLOWED_IPS (addresses or CIDR networks) gets in without credentials, and anyone else must send
`Authorization: Bearer <METRICS_TOKEN>`: 401 without credentials, 403 with wrong ones or
when only the allow-list is configured. The token is compared in constant time.

The address is REMOTE_ADDR, as for rate limiting (`core.http.client_ip`):
behind a proxy, daphne's --proxy-headers makes it the real client's, and a client can
never choose it with a header of its own.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from core.errors import json_error
from core.http import client_ip

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def parse_allowed_ips(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """METRICS_ALLOWED_IPS as networks (a bare address is a /32 or /128). Raises
    ValueError on a bad entry; `monitoring.checks` reports it at start-up."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def ip_allowed(address: str, entries: Iterable[str]) -> bool:
    try:
        networks = parse_allowed_ips(tuple(entries))
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d
    return any(ip in network for network in networks)


def _bearer(request: HttpRequest) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def metrics_access_denied(request: HttpRequest) -> JsonResponse | None:
    """None when the request may read the metrics, else the 401/403 response to send."""
    token: str = settings.METRICS_TOKEN
    allowed: list[str] = settings.METRICS_ALLOWED_IPS
    if not token and not allowed:
        if settings.PRODUCTION:
            return json_error(
                403,
                message="Metrics are not served in production until METRICS_TOKEN or METRICS_ALLOWED_IPS is set.",
                details={"settings": ["METRICS_TOKEN", "METRICS_ALLOWED_IPS"]},
            )
        return None
    if allowed and ip_allowed(client_ip(request), allowed):
        return None
    if not token:
        return json_error(403, message="Metrics are only served to the addresses in METRICS_ALLOWED_IPS.")
    given = _bearer(request)
    if given is None:
        return json_error(
            401,
            message="Send the metrics token as `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if not hmac.compare_digest(given.encode(), token.encode()):
        return json_error(403, message="The metrics token is not valid.")
    return None
