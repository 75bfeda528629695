"""One webhook POST, safe by construction (docs/webhooks.md "Safety"): the host is
resolved once, every address it resolves to must be public (webhooks.ssrf) unless the
host is allowed by name, the socket connects to that checked address (so a second,
different DNS answer cannot redirect it), the address connected to is checked again,
TLS verifies the certificate for the URL's host name (SNI), redirects are answers like
any other (never followed), at most `max_body` bytes of the answer are read, and the
whole exchange has one deadline."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from webhooks.ssrf import address_problem, host_allowed, literal_address, split_url


class DeliveryRefused(Exception):
    """The target is not a place a webhook may go (nothing was sent)."""


class DeliveryTimeout(Exception):
    """No complete answer within the deadline."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    truncated: bool
    peer: str


def _checked_addresses(host: str, port: int, *, allowed: bool) -> list[tuple[int, str]]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"could not resolve {host}: {exc.strerror or exc}") from exc
    found: list[tuple[int, str]] = []
    for family, _, _, _, sockaddr in infos:
        address = literal_address(str(sockaddr[0]))
        if address is None:
            continue
        if not allowed and (problem := address_problem(address)):
            # One private answer refuses the host: the next lookup might pick it.
            raise DeliveryRefused(f"{host} resolves to {problem}")
        found.append((family, str(sockaddr[0])))
    if not found:
        raise OSError(f"{host} has no address")
    return found


def post(
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    max_body: int,
    allowed_hosts: Collection[str],
) -> Answer:
    parts = split_url(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    allowed = host_allowed(host, allowed_hosts)
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeliveryTimeout(f"no answer within {timeout:g} s")
        return left

    family, address = _checked_addresses(host, port, allowed=allowed)[0]
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(remaining())
        sock.connect((address, port))
        peer = literal_address(str(sock.getpeername()[0]))
        if peer is None or (not allowed and address_problem(peer)):
            sock.close()
            raise DeliveryRefused(f"connected to {peer}, which is not a public address")
        if https:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        connection = http.client.HTTPConnection(host, port, timeout=remaining())
        connection.sock = sock  # already connected to the checked address: no second lookup
        try:
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            connection.request("POST", path, body=body, headers=dict(headers))
            sock.settimeout(remaining())
            response = connection.getresponse()
            received = bytearray()
            while len(received) <= max_body:
                sock.settimeout(remaining())
                chunk = response.read1(min(16384, max_body + 1 - len(received)))
                if not chunk:
                    break
                received += chunk
            truncated = len(received) > max_body
            return Answer(status=response.status, body=bytes(received[:max_body]), truncated=truncated, peer=str(peer))
        finally:
            connection.close()
    except TimeoutError as exc:
        raise DeliveryTimeout(f"no answer within {timeout:g} s") from exc
