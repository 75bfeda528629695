"""Another user's voices and samples do not exist for the outsider: 404 everywhere,
and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from voices.models import Voice, VoiceSample

pytestmark = pytest.mark.usefixtures("piper_only_engines")


@pytest.fixture
def owners_voice(create_voice) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = create_voice().json()
    return {"voice": body["id"], "sample": body["samples"][0]["id"]}


def requests_for(ids: dict[str, Any], upload: SimpleUploadedFile) -> list[tuple[str, str, dict[str, Any]]]:
    voice, sample = ids["voice"], ids["sample"]
    return [
        ("get", f"/api/v1/voices/{voice}", {}),
        ("patch", f"/api/v1/voices/{voice}", {"data": {"name": "Mine now"}, "format": "json"}),
        ("delete", f"/api/v1/voices/{voice}", {}),
        (
            "post",
            f"/api/v1/voices/{voice}/samples",
            {"data": {"samples": [upload], "consent": "true"}, "format": "multipart"},
        ),
        ("delete", f"/api/v1/voices/{voice}/samples/{sample}", {}),
        ("get", f"/api/v1/voices/{voice}/samples/{sample}/audio", {}),
    ]


@pytest.mark.parametrize("index", range(6), ids=["get", "patch", "delete", "add-sample", "delete-sample", "audio"])
def test_the_outsider_gets_404_on_every_endpoint_of_the_owners_voice(
    outsider_api, owners_voice, other_upload, index: int
) -> None:
    method, url, kwargs = requests_for(owners_voice, other_upload())[index]

    response = getattr(outsider_api, method)(url, **kwargs)

    assert response.status_code == 404, (method, url, response.content)
    assert response.json()["error"]["code"] == "not_found"
    voice = Voice.objects.get(pk=owners_voice["voice"])
    assert voice.name == "Grandma"
    assert list(VoiceSample.objects.values_list("pk", flat=True)) == [voice.samples.get().pk]


def test_the_outsider_does_not_see_the_owners_voice_in_the_list(outsider_api, owners_voice) -> None:
    ids = [v["id"] for v in outsider_api.get("/api/v1/voices").json()["results"]]

    assert owners_voice["voice"] not in ids
    assert ids  # the built-ins are there


def test_the_owner_still_sees_everything(owner_api, owners_voice) -> None:
    assert owner_api.get(f"/api/v1/voices/{owners_voice['voice']}").status_code == 200
    assert (
        owner_api.get(f"/api/v1/voices/{owners_voice['voice']}/samples/{owners_voice['sample']}/audio").status_code
        == 200
    )
