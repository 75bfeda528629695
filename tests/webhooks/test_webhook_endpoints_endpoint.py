"""`/api/v1/webhooks`: an account's endpoints, the `webhooks:manage` scope, the secret
shown once and rotated, ownership (another account's endpoint is a 404), and bad input
refused with a 400 naming the field (or a 409 past the per-account limit)."""

from __future__ import annotations

import pytest

from monitoring.models import AuditEvent
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/speaker"


def create(api, url: str = HOOK, events: list[str] | None = None, **extra):  # type: ignore[no-untyped-def]
    return api.post(
        "/api/v1/webhooks",
        {"url": url, "events": ["job.completed"] if events is None else events, **extra},
        format="json",
    )


def test_an_owner_adds_an_endpoint_and_sees_its_secret_only_once(owner_api):
    created = create(owner_api, events=["job.completed", "voice.ready"], description="render farm")
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["job.completed", "voice.ready"] and body["enabled"] is True
    listed = owner_api.get("/api/v1/webhooks").json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in owner_api.get(f"/api/v1/webhooks/{body['id']}").json()


def test_an_owner_changes_disables_and_deletes_an_endpoint(owner_api, owner):
    endpoint_id = create(owner_api).json()["id"]
    changed = owner_api.patch(
        f"/api/v1/webhooks/{endpoint_id}", {"events": ["job.failed"], "enabled": False}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["events"] == ["job.failed"] and changed.json()["enabled"] is False
    assert owner_api.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint_id).exists()
    actions = set(AuditEvent.objects.filter(target_type="webhook_endpoint").values_list("action", flat=True))
    assert {"webhook.created", "webhook.deleted"} <= actions


def test_rotating_the_secret_returns_a_new_one_and_keeps_the_old_for_a_day(owner_api):
    first = create(owner_api).json()
    rotated = owner_api.post(f"/api/v1/webhooks/{first['id']}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != first["secret"]
    endpoint = WebhookEndpoint.objects.get(pk=first["id"])
    assert endpoint.previous_secret == first["secret"] and endpoint.previous_secret_expires_at is not None
    assert AuditEvent.objects.filter(action="webhook.secret_rotated", target_id=str(first["id"])).exists()
    logged = str(list(AuditEvent.objects.values_list("details", flat=True)))
    assert first["secret"] not in logged and rotated.json()["secret"] not in logged  # no secret in the log


def test_a_key_without_the_webhooks_scope_is_refused(api_for, owner):
    reader = api_for(owner, ["voices:read", "synthesis:write"])
    answer = reader.get("/api/v1/webhooks")
    assert answer.status_code == 403
    assert api_for(owner, ["webhooks:manage"]).get("/api/v1/webhooks").status_code == 200


def test_an_outsider_cannot_see_or_touch_the_owners_endpoint(owner_api, outsider_api):
    endpoint_id = create(owner_api).json()["id"]
    assert outsider_api.get("/api/v1/webhooks").json()["results"] == []
    for method, path in [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/rotate-secret"),
        ("post", "/test"),
        ("get", "/deliveries"),
    ]:
        answer = getattr(outsider_api, method)(f"/api/v1/webhooks/{endpoint_id}{path}", {}, format="json")
        assert answer.status_code == 404, (method, path)
        assert answer.json()["error"]["code"] == "not_found"
    assert WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).exists()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "javascript:alert(1)",
        "hooks.example.com/no-scheme",
        "https://user:pass@hooks.example.com/x",
        "https://token@hooks.example.com/x",
        "https://hooks.example.com/" + "a" * 2100,
        "https:///no-host",
    ],
)
def test_a_url_that_is_not_an_http_url_is_refused_naming_the_field(owner_api, url):
    answer = create(owner_api, url=url)
    assert answer.status_code == 400
    assert "url" in answer.json()["error"]["details"]


def test_credentials_in_the_url_are_named_as_the_reason(owner_api):
    answer = create(owner_api, url="https://user:pass@hooks.example.com/x")
    assert "credentials" in answer.json()["error"]["details"]["url"][0]


def test_the_schema_states_the_urls_form_and_length(anon):
    schema = anon.get("/openapi.json").json()["components"]["schemas"]["WebhookEndpointCreateRequest"]
    url = schema["properties"]["url"]
    assert url["maxLength"] == 2048 and url["pattern"].startswith("^https?://")


def test_unknown_event_types_are_refused_naming_the_field(owner_api):
    answer = create(owner_api, events=["job.completed", "job.exploded"])
    assert answer.status_code == 400
    assert "events" in answer.json()["error"]["details"]
    assert create(owner_api, events=[]).status_code == 400


def test_plain_http_is_refused_where_https_is_required(owner_api, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    answer = create(owner_api, url="http://hooks.example.com/x")
    assert answer.status_code == 422 and "https" in answer.json()["error"]["details"]["url"][0]


def test_the_twenty_first_endpoint_is_a_conflict(owner_api):
    for n in range(20):
        assert create(owner_api, url=f"{HOOK}/{n}").status_code == 201
    answer = create(owner_api, url=f"{HOOK}/21")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "conflict"


def test_the_endpoints_are_in_the_openapi_schema(anon):
    paths = anon.get("/openapi.json").json()["paths"]
    for path in [
        "/api/v1/webhooks",
        "/api/v1/webhooks/{endpoint_id}",
        "/api/v1/webhooks/{endpoint_id}/rotate-secret",
        "/api/v1/webhooks/{endpoint_id}/test",
        "/api/v1/webhooks/{endpoint_id}/deliveries",
        "/api/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    ]:
        assert path in paths, path


def test_enabled_must_be_a_json_boolean(owner_api):
    answer = create(owner_api, enabled=0)
    assert answer.status_code == 400 and "enabled" in answer.json()["error"]["details"]
