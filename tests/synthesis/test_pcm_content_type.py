"""Raw pcm says what it is: `audio/pcm;rate=…;channels=1` plus X-Sample-Rate, X-Channels
and X-Sample-Format on every pcm response (download, stream, /v1/audio/speech), and the
OpenAPI document lists exactly the content types that are sent."""

from __future__ import annotations

import pytest
import requests

from speech import audio

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


@pytest.fixture
def completed_job(post_job, run_worker) -> str:  # type: ignore[no-untyped-def]
    job_id = post_job("Raw samples, please.").json()["id"]
    run_worker()
    return job_id


def test_a_pcm_download_names_its_rate(owner_api, completed_job):
    response = owner_api.get(f"/api/v1/synthesis/{completed_job}/audio?format=pcm")

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/pcm;rate=22050;channels=1"
    assert response["X-Sample-Rate"] == "22050"
    assert response["X-Channels"] == "1" and response["X-Sample-Format"] == "s16le"
    body = b"".join(response.streaming_content)
    assert len(audio.from_s16le(body)) / 22050 > 0.5


def test_a_second_pcm_download_from_the_cache_says_the_same(owner_api, completed_job):
    owner_api.get(f"/api/v1/synthesis/{completed_job}/audio?format=pcm")
    response = owner_api.get(f"/api/v1/synthesis/{completed_job}/audio?format=pcm", HTTP_RANGE="bytes=0-99")

    assert response.status_code == 206
    assert response["Content-Type"] == "audio/pcm;rate=22050;channels=1" and response["X-Sample-Rate"] == "22050"


def _content_types(schema: dict, path: str, method: str) -> set[str]:
    return set(schema["paths"][path][method]["responses"]["200"]["content"])


def test_the_schema_lists_the_audio_types_that_are_sent(anon):
    schema = anon.get("/openapi.json").json()

    assert _content_types(schema, "/api/v1/synthesis/{job_id}/audio", "get") == {
        "audio/wav",
        "audio/mpeg",
        "audio/ogg",
        "audio/flac",
        "audio/pcm",
    }
    assert _content_types(schema, "/api/v1/synthesis/stream", "post") == {
        "audio/pcm",
        "audio/wav",
        "audio/mpeg",
        "audio/ogg",
    }
    # `stream_format: "sse"` answers with server-sent events (docs/voice-agents.md).
    assert _content_types(schema, "/v1/audio/speech", "post") == {
        "audio/pcm",
        "audio/wav",
        "audio/mpeg",
        "audio/ogg",
        "audio/flac",
        "text/event-stream",
    }
    pcm = schema["paths"]["/api/v1/synthesis/{job_id}/audio"]["get"]["responses"]["200"]
    assert "X-Sample-Rate" in pcm["description"]


def test_a_pcm_stream_names_its_rate(live_server_embedded):
    key = live_server_embedded.create_key("pcm-streamer")
    response = requests.post(
        f"{live_server_embedded.url}/api/v1/synthesis/stream",
        json={"text": "Streamed raw samples.", "voice": "joe", "format": "pcm"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=120,
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "audio/pcm;rate=22050;channels=1"
    assert response.headers["X-Sample-Rate"] == "22050" and response.headers["X-Sample-Format"] == "s16le"
    assert len(audio.from_s16le(response.content)) / 22050 > 0.5
