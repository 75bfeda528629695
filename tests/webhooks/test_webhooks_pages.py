"""The dashboard's Webhooks pages: the owner's endpoints (and why Speaker disabled one),
one endpoint's delivery log, nobody else's."""

from __future__ import annotations

import pytest
from django.test import Client

from core.events import send_user_event
from webhooks.delivery import endpoint_disable
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_browser(owner) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    return client


def test_the_owner_sees_the_endpoints_and_why_one_was_disabled(owner, owner_browser):
    kept = endpoint_create(owner=owner, url="https://hooks.example.com/a", events=["job.completed"]).endpoint
    gone = endpoint_create(owner=owner, url="https://hooks.example.com/b", events=["voice.ready"]).endpoint
    endpoint_disable(endpoint=gone, reason="The receiver answered 410 Gone: the endpoint was disabled.")
    page = owner_browser.get("/webhooks/").content.decode()
    assert kept.url in page and gone.url in page
    assert "410 Gone" in page and f'data-disabled-notice="{gone.pk}"' in page
    assert "whsec_" not in page


def test_the_delivery_log_lists_the_endpoints_deliveries(owner, owner_browser):
    endpoint = endpoint_create(owner=owner, url="https://hooks.example.com/a", events=["job.completed"]).endpoint
    send_user_event(user_id=owner.pk, event="job.completed", payload={})
    page = owner_browser.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert "job.completed" in page and "pending" in page and "Redeliver" in page


def test_an_outsider_gets_a_404_for_the_owners_log(owner, outsider):
    endpoint = endpoint_create(owner=owner, url="https://hooks.example.com/a", events=["job.completed"]).endpoint
    client = Client()
    client.force_login(outsider)
    assert client.get(f"/webhooks/{endpoint.pk}/").status_code == 404
    assert endpoint.url not in client.get("/webhooks/").content.decode()
