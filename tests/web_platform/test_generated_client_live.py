"""A client generated from the live /openapi.json works (issue "A contract clients can be
generated from", item 8): openapi-python-client (pinned in requirements-dev.txt) generates
a Python package from the running server's schema, with its default settings, and the
core flow runs through that package as generated: list voices, create a job, poll it
until it is completed, download and decode its audio, list and filter the history,
create and revoke a key, read usage. If the generator or the package it writes chokes,
the schema is what gets fixed (speaker_site/openapi.py, extend_schema, serializers)."""

from __future__ import annotations

import importlib
import io
import json
import re
import subprocess
import sys
import time
import urllib.request
import wave

import pytest

from tests.live import BIN, LiveServer

PACKAGE = "speaker_generated_client"

# openapi-python-client 0.29 reads JSON, text and application/octet-stream bodies only;
# for any other media type it still writes the operation (its `sync_detailed` returns the
# raw bytes in `.content`) and warns that the parsed body is omitted. Speaker's audio is
# documented with its true types (audio/wav, audio/mpeg, ...), so these warnings are
# expected; any other warning fails the test.
AUDIO_OPERATIONS = {
    "GET /api/v1/voices/{voice_id}/preview",
    "GET /api/v1/voices/{voice_id}/samples/{sample_id}/audio",
    "GET /api/v1/synthesis/{job_id}/audio",
    "POST /api/v1/synthesis/stream",
    "POST /v1/audio/speech",
    "GET /api/v1/productions/{production_id}/audio",
    "GET /api/v1/productions/{production_id}/chapters/{chapter}/audio",
    "GET /api/v1/productions/{production_id}/segments/{index}/audio",
}
# Downloads of other files, documented with their own types: an account's data export
# (application/zip) and a pronunciation dictionary as a W3C PLS lexicon.
FILE_OPERATIONS = {
    "GET /api/v1/account/exports/{export_id}/download",
    "GET /api/v1/pronunciation-dictionaries/{dictionary_id}/versions/{version_id}/pls",
}
# Operations answering newline-delimited JSON streams (audio with word timings): the
# generator omits their responses as it does audio; a client reads them line by line.
NDJSON_OPERATIONS = {
    "POST /api/v1/synthesis/stream/with-timings",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    # `make run`'s configuration: daphne with the Piper worker inside.
    live = LiveServer(tmp_path_factory.mktemp("generated-client")).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def generated(server, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The package openapi-python-client writes from the live schema, imported."""
    workdir = tmp_path_factory.mktemp("client")
    schema = workdir / "openapi.json"
    with urllib.request.urlopen(f"{server.url}/openapi.json", timeout=30) as response:
        schema.write_bytes(response.read())
    result = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(schema),
            "--meta",
            "none",
            "--output-path",
            str(workdir / PACKAGE),
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=180,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0 and (workdir / PACKAGE / "client.py").is_file(), log[-5000:]
    warned = set(re.findall(r"WARNING parsing (\w+ \S+) within", log))
    assert warned <= AUDIO_OPERATIONS | FILE_OPERATIONS | NDJSON_OPERATIONS, log[-5000:]
    for operation in warned:
        section = log.split(f"WARNING parsing {operation} within", 1)[1].split("WARNING parsing", 1)[0]
        expected = (
            "application/x-ndjson"
            if operation in NDJSON_OPERATIONS
            else "application/"
            if operation in FILE_OPERATIONS
            else "audio/"
        )
        assert f"Unsupported content_type {expected}" in section, section
    sys.path.insert(0, str(workdir))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _import(package: object, dotted: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"{package.__name__}.{dotted}")  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def api(server, generated):  # type: ignore[no-untyped-def]
    key = server.create_key("generated")
    client = generated.AuthenticatedClient(base_url=server.url, token=key, raise_on_unexpected_status=True)
    with client as entered:
        yield entered


def test_the_core_flow_runs_through_the_generated_client(generated, api):
    models = _import(generated, "models")
    voices_list = _import(generated, "api.voices.api_v1_voices_list")
    synthesis_create = _import(generated, "api.synthesis.api_v1_synthesis_create")
    synthesis_retrieve = _import(generated, "api.synthesis.api_v1_synthesis_retrieve")
    synthesis_audio = _import(generated, "api.synthesis.api_v1_synthesis_audio_retrieve")
    synthesis_list = _import(generated, "api.synthesis.api_v1_synthesis_list")
    keys_create = _import(generated, "api.keys.api_v1_keys_create")
    keys_list = _import(generated, "api.keys.api_v1_keys_list")
    keys_destroy = _import(generated, "api.keys.api_v1_keys_destroy")
    usage_retrieve = _import(generated, "api.usage.api_v1_usage_retrieve")

    # List voices: the paginated object, parsed into models.
    voices = voices_list.sync(client=api)
    assert isinstance(voices, models.PaginatedVoiceList)
    joe = next(voice for voice in voices.results if voice.name == "joe")

    # Create a job with the typed request body (language from the documented enum).
    body = models.JobCreateRequest(
        text="Hello from a generated client.",
        voice=joe.name,
        language=models.SpokenLanguage("en"),
        format_=models.JobCreateFormatEnum.WAV,
        params=models.JobCreateRequestParams.from_dict({"speed": 1.2, "seed": 7}),
    )
    job = synthesis_create.sync(client=api, body=body)
    assert isinstance(job, models.Job), job
    assert job.status == models.JobStatusEnum.QUEUED

    # Poll it until it is completed (Piper speaks this in well under a second).
    deadline = time.monotonic() + 120
    while job.status in (models.JobStatusEnum.QUEUED, models.JobStatusEnum.RUNNING):
        assert time.monotonic() < deadline, "the job did not finish in 120 s"
        time.sleep(0.2)
        job = synthesis_retrieve.sync(job.id, client=api)
        assert isinstance(job, models.Job), job
    assert job.status == models.JobStatusEnum.COMPLETED, job.error
    assert job.audio_duration and job.audio_duration > 0.5

    # Download its audio and decode it.
    # The generator leaves an audio/* 200 undeclared in its code (see AUDIO_OPERATIONS), so
    # this call goes through a client that does not raise on undeclared statuses.
    lenient = generated.AuthenticatedClient(base_url=api._base_url, token=api.token)
    audio = synthesis_audio.sync_detailed(job.id, client=lenient, format_=models.ApiV1SynthesisAudioRetrieveFormat.WAV)
    assert audio.status_code == 200
    assert audio.headers["content-type"].startswith("audio/wav")
    with wave.open(io.BytesIO(audio.content)) as decoded:
        assert decoded.getnchannels() == 1 and decoded.getsampwidth() == 2
        seconds = decoded.getnframes() / decoded.getframerate()
    assert seconds == pytest.approx(job.audio_duration, abs=0.05)

    # List and filter the history.
    history = synthesis_list.sync(client=api, status="completed", voice="joe", language="en", page_size=10)
    assert isinstance(history, models.PaginatedJobList)
    assert [item.id for item in history.results] == [job.id]
    assert synthesis_list.sync(client=api, status="failed,cancelled").count == 0
    refused = synthesis_list.sync_detailed(client=api, status="queued,,running")
    assert refused.status_code == 400 and isinstance(refused.parsed, models.ErrorBody)

    # Create a key, see it listed, revoke it; the secret works until then and not after.
    created = keys_create.sync(
        client=api, body=models.APIKeyCreateRequest(name="ci", scopes=[models.ScopeOrAllEnum.SYNTHESISWRITE])
    )
    assert isinstance(created, models.APIKeyCreated), created
    assert created.scopes == [models.ScopeEnum.SYNTHESISWRITE] and isinstance(created.scopes[0], models.ScopeEnum)
    assert created.key.startswith("spk_")
    assert created.id in [key.id for key in keys_list.sync(client=api).results]
    second = generated.AuthenticatedClient(base_url=api._base_url, token=created.key)
    assert synthesis_list.sync_detailed(client=second).status_code == 200
    assert keys_destroy.sync_detailed(created.id, client=api).status_code == 204
    assert synthesis_list.sync_detailed(client=second).status_code == 401

    # Read usage: the job's characters are counted.
    usage = usage_retrieve.sync(client=api)
    assert isinstance(usage, models.Usage), usage
    assert json.dumps(usage.to_dict())  # round-trips to JSON as documented
    assert usage.to_dict()["totals"]["characters"] >= job.character_count
