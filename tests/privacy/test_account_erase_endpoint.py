"""POST /api/v1/account/erase: a person erases their account. Afterwards nothing of them
is left in any table of the database nor under MEDIA_ROOT, while another user's data is
untouched; the audit log says only that account <id> was erased, when and from where."""

from __future__ import annotations

from django.conf import settings

from accounts.models import User
from monitoring.models import AuditEvent
from tests.privacy.conftest import OWNER_PASSWORD, database_traces, media_files, media_folders

ERASE = "/api/v1/account/erase"


def erase(client, password=OWNER_PASSWORD, confirm="olivia"):  # type: ignore[no-untyped-def]
    return client.post(ERASE, {"password": password, "confirm_username": confirm}, format="json")


def test_an_erased_account_leaves_nothing_in_the_database_or_on_disk(owner, outsider, fill, api_for):
    oscars = fill(outsider, name="Oscar Voice", text="Oscar sings about lighthouses.", other_sample=True)
    oscar_files = media_files(settings.MEDIA_ROOT)
    olivias = fill(owner, name="Olivia Voice", text="Olivia whispers her plum-coloured secret.")
    assert database_traces(user_id=owner.pk, markers=olivias.all_markers())  # the scan sees what is there

    response = erase(api_for(owner))

    assert response.status_code == 204, response.content
    assert database_traces(user_id=owner.pk, markers=olivias.all_markers()) == []
    left = media_files(settings.MEDIA_ROOT)
    assert [path for path in left if any(i in path for i in olivias.all_markers())] == []
    assert [path for path in left if f"/{owner.pk}/" in f"/{path}"] == []
    assert left == oscar_files
    assert [folder for folder in media_folders(settings.MEDIA_ROOT) if folder.split("/")[1:2] == [str(owner.pk)]] == []
    assert database_traces(user_id=outsider.pk, markers=oscars.all_markers())  # Oscar keeps everything
    assert api_for(outsider).get("/api/v1/synthesis").json()["count"] == 2


def test_the_audit_log_keeps_only_that_the_account_was_erased(owner, fill, api_for):
    fill(owner, name="Olivia Voice", text="Olivia whispers her plum-coloured secret.")
    client = api_for(owner)
    client.post(
        ERASE,
        {"password": OWNER_PASSWORD, "confirm_username": owner.username},
        format="json",
        HTTP_USER_AGENT="Olivia's own browser",
    )
    entry = AuditEvent.objects.get(action="account.erased")
    assert (entry.target_type, entry.target_id, entry.client_ip) == ("user", str(owner.pk), "127.0.0.1")
    assert entry.user_agent == ""  # id, time and address; nothing of the client
    assert entry.user is None and entry.username == "" and entry.details == {"by": "self"}
    assert not AuditEvent.objects.exclude(pk=entry.pk).exclude(target_id="").exists()


def test_an_erase_without_the_password_is_refused_and_touches_nothing(owner, api_for, transactional_db):
    client = api_for(owner)
    missing = client.post(ERASE, {"confirm_username": "olivia"}, format="json")
    assert missing.status_code == 400 and "password" in missing.json()["error"]["details"]
    wrong = erase(client, password="not-my-password")
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "reauthentication_failed"
    assert User.objects.filter(pk=owner.pk, is_active=True).exists()
    assert AuditEvent.objects.filter(action="account.reauthentication_failed", user=owner).count() == 1


def test_an_erase_with_the_username_mistyped_is_refused(owner, api_for, transactional_db):
    response = erase(api_for(owner), confirm="Olivia")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["confirm_username"] == ["Type olivia to confirm."]
    assert User.objects.filter(pk=owner.pk).exists()


def test_guessing_the_password_is_stopped_after_a_few_tries(owner, api_for, transactional_db):
    client = api_for(owner)
    codes = [erase(client, password=f"guess-{n}").status_code for n in range(6)]
    assert codes == [403] * 5 + [429]
    assert erase(client).status_code == 429  # even the right one, for a while
    assert User.objects.filter(pk=owner.pk).exists()


def test_bad_bodies_are_400s_with_the_error_body(owner, api_for, transactional_db):
    client = api_for(owner)
    for body in ({"password": 5, "confirm_username": "olivia"}, {"password": ["x"]}, [], {"password": "a\u0000b"}):
        response = client.post(ERASE, body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert set(response.json()["error"]) == {"code", "message", "details"}
    assert client.post(ERASE, "not json", content_type="application/json").status_code == 400


def test_a_key_without_keys_manage_cannot_erase(owner, api_for, transactional_db):
    response = erase(api_for(owner, scopes=["synthesis:write"]))
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert User.objects.filter(pk=owner.pk).exists()


def test_anonymous_callers_cannot_erase(anon, transactional_db):
    assert erase(anon).status_code == 401


def test_a_session_is_signed_out_by_the_erasure(owner, transactional_db):
    from django.test import Client

    browser = Client()
    browser.login(username="olivia", password=OWNER_PASSWORD)
    response = browser.post(
        ERASE, {"password": OWNER_PASSWORD, "confirm_username": "olivia"}, content_type="application/json"
    )
    assert response.status_code == 204
    assert browser.get("/api/v1/me").status_code in (401, 403)
