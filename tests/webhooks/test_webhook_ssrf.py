"""Webhooks never reach an address that is not public (docs/webhooks.md "Safety"):
literal private, loopback, link-local, multicast and reserved addresses (IPv4, IPv6 and
IPv4-mapped IPv6) are refused when the endpoint is saved; a name that resolves to one is
refused when a delivery is sent, judged on the address actually connected to; a redirect
to a private address is never followed; only hosts named in WEBHOOK_ALLOWED_HOSTS may
be internal."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from core.events import send_user_event
from tests.webhooks.conftest import Answer
from webhooks import transport
from webhooks.delivery import deliveries_run_due
from webhooks.models import WebhookDelivery
from webhooks.services import endpoint_create
from webhooks.ssrf import address_problem

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "224.0.0.1",
        "240.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "[::1]",
        "[fe80::1]",
        "[fc00::1]",
        "[ff02::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "localhost",
        "hooks.localhost",
    ],
)
def test_an_endpoint_on_a_literal_internal_address_is_refused(owner_api, host):
    answer = owner_api.post(
        "/api/v1/webhooks", {"url": f"http://{host}:8080/hook", "events": ["job.completed"]}, format="json"
    )
    assert answer.status_code == 422, answer.json()  # well-formed, but not allowed here
    assert "url" in answer.json()["error"]["details"]


@pytest.mark.parametrize("address", ["::ffff:192.168.0.1", "::ffff:127.0.0.1", "::", "2001:db8::1", "198.18.0.1"])
def test_the_address_rule_sees_through_ipv4_mapped_and_reserved_ranges(address):
    assert address_problem(ipaddress.ip_address(address)) is not None


def test_a_public_address_passes_the_address_rule():
    assert address_problem(ipaddress.ip_address("93.184.216.34")) is None
    assert address_problem(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946")) is None


def _deliver_to(owner, receiver, settings, host: str) -> WebhookDelivery:  # type: ignore[no-untyped-def]
    """An endpoint on `host` saved while it is allowed, then delivered to once it is not
    (a name whose address changed after it was saved, as with DNS rebinding)."""
    settings.WEBHOOK_ALLOWED_HOSTS = [host]
    endpoint_create(owner=owner, url=f"http://{host}:{receiver.port}/hook", events=["job.completed"])
    settings.WEBHOOK_ALLOWED_HOSTS = []
    send_user_event(user_id=owner.pk, event="job.completed", payload={})
    deliveries_run_due(worker_id="test-loop")
    return WebhookDelivery.objects.get()


@pytest.mark.parametrize("host", ["localhost", "vm"])
def test_a_name_resolving_to_loopback_is_refused_at_delivery(owner, receiver, settings, host):
    try:
        assert ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, AssertionError):
        pytest.skip(f"{host} does not resolve to loopback here")
    delivery = _deliver_to(owner, receiver, settings, host)
    assert delivery.error.startswith("Refused:") and "loopback" in delivery.error
    assert delivery.response_status is None
    assert receiver.received == []  # nothing was sent


def test_a_literal_loopback_outside_the_allow_list_is_refused_at_delivery(owner, receiver, settings):
    delivery = _deliver_to(owner, receiver, settings, "127.0.0.1")
    assert delivery.error.startswith("Refused:") and receiver.received == []


def test_the_allow_list_lets_the_named_host_through(owner, receiver, subscribe):
    subscribe(owner, ["job.completed"])
    send_user_event(user_id=owner.pk, event="job.completed", payload={})
    deliveries_run_due(worker_id="test-loop")
    assert WebhookDelivery.objects.get().status == "succeeded" and len(receiver.received) == 1


def test_a_redirect_to_a_private_address_is_not_followed(owner, receiver, subscribe):
    subscribe(owner, ["job.completed"])
    receiver.answers = [Answer(status=302, location="http://10.0.0.1/steal", body=b"")]
    send_user_event(user_id=owner.pk, event="job.completed", payload={})
    deliveries_run_due(worker_id="test-loop")
    delivery = WebhookDelivery.objects.get()
    assert delivery.response_status == 302 and delivery.status == "pending"  # a failure, retried later
    assert len(receiver.received) == 1


def test_the_connection_goes_to_the_address_that_was_checked(receiver, monkeypatch):
    """The host is resolved once, by the guard; the socket connects to that address, so
    a second DNS answer (rebinding) has no lookup to answer."""
    lookups: list[str] = []
    real = socket.getaddrinfo

    def counting(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        lookups.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    answer = transport.post(
        f"http://localhost:{receiver.port}/hook",
        body=b"{}",
        headers={"content-type": "application/json"},
        timeout=5,
        max_body=1024,
        allowed_hosts=["localhost"],
    )
    assert answer.status == 200 and lookups == ["localhost"]
    assert ipaddress.ip_address(answer.peer).is_loopback
    assert receiver.received[0].headers["host"] == f"localhost:{receiver.port}"


def test_the_guard_refuses_a_private_answer_before_connecting(monkeypatch):
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.9.8.7", 443))]
    )
    with pytest.raises(transport.DeliveryRefused, match="private"):
        transport.post("https://rebinding.example/hook", body=b"", headers={}, timeout=1, max_body=0, allowed_hosts=[])
