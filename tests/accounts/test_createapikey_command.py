from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_it_prints_the_new_key_alone_on_the_last_line(owner, anon):
    out = StringIO()
    call_command(
        "createapikey", owner.username, "--name", "ops", "--scopes", "voices:read", stdout=out, stderr=StringIO()
    )
    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("spk_")
    body = anon.get("/api/v1/me", HTTP_X_API_KEY=key).json()
    assert body["key"]["scopes"] == ["voices:read"] and body["key"]["name"] == "ops"


def test_it_refuses_an_unknown_user():
    with pytest.raises(CommandError):
        call_command("createapikey", "nobody", stdout=StringIO(), stderr=StringIO())


def test_it_can_create_the_user(anon):
    out = StringIO()
    call_command("createapikey", "robot", "--create-user", stdout=out, stderr=StringIO())
    assert anon.get("/api/v1/me", HTTP_X_API_KEY=out.getvalue().splitlines()[-1]).json()["username"] == "robot"
