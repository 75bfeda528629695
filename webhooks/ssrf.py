"""Where a webhook may be sent (docs/webhooks.md "Safety"): http(s) only (https only when
WEBHOOK_REQUIRE_HTTPS, the production default), no credentials in the URL, and never to
an address that is not public (loopback, private, link-local, multicast, reserved,
unspecified, shared; IPv4 and IPv6, an IPv4-mapped IPv6 judged by its IPv4) unless the
URL's host is one an operator named in WEBHOOK_ALLOWED_HOSTS.

`url_form_problem` and `url_problem` are the checks when an endpoint is saved (the
URL's form, then https and a literal address); `address_problem` is asked at delivery
time of every address the host resolves to and of the address actually connected to
(webhooks.transport), so a name that resolves elsewhere later (DNS rebinding) is caught
where it matters."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_problem(address: IPAddress) -> str | None:
    """Why a webhook may not be sent to `address`, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return f"{address} is a {kind.replace('_', '-')} address"
    if not address.is_global:  # 100.64.0.0/10, 6to4 relays, documentation ranges...
        return f"{address} is not a public address"
    return None


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def host_allowed(host: str, allowed_hosts: Collection[str]) -> bool:
    return host.lower().rstrip(".") in {h.lower().rstrip(".") for h in allowed_hosts}


def split_url(url: str) -> SplitResult:
    """`urlsplit` that raises ValueError for a bad port too (it is lazy about ports)."""
    parts = urlsplit(url)
    _ = parts.port
    return parts


# The URL's form, as the schema states it (webhooks.serializers): http(s), a host part
# without credentials (`@`), no spaces or control characters anywhere.
URL_PATTERN = r"^https?://[^\x00-\x20\x7f/?#@]+([/?#][^\x00-\x20\x7f]*)?$"
URL_FORM_MESSAGE = "Enter an http(s) URL without credentials or spaces: https://host[:port]/path."


def url_form_problem(url: str) -> str | None:
    """Why `url` is not a webhook URL by its form (a 400, which the schema states)."""
    if not re.match(URL_PATTERN, url):
        if url.lower().startswith(("http://", "https://")) and "@" in urlsplit(url).netloc:
            return "The URL must not contain credentials; authenticate with the signature instead."
        return URL_FORM_MESSAGE
    return None


def url_problem(url: str, *, require_https: bool, allowed_hosts: Collection[str]) -> str | None:
    """Why a well-formed `url` may not be a webhook endpoint here (its meaning: a 422), or None."""
    try:
        parts = split_url(url)
    except ValueError:
        return "The URL's host or port is not valid."
    if require_https and parts.scheme != "https":
        return "The URL must use https."
    host = parts.hostname or ""
    if not host:
        return "The URL has no host."
    if host_allowed(host, allowed_hosts):
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "localhost is not a public address."
    address = literal_address(host)
    if address is not None and (problem := address_problem(address)):
        return f"The URL's host {problem}."
    return None
