"""`python manage.py xtts install|status|manifest` on the mirror path, end to end: a real
HTTP server on 127.0.0.1 serves the tiny XTTS checkpoint (tests/tiny_xtts.py) and the
command downloads, verifies and installs it; a voice that waited for the engine then
becomes ready and speaks. Nothing is mocked."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from engine_host.worker import EngineWorker
from engine_setup.services import xtts_install_limits
from monitoring.models import AuditEvent
from speech import xtts_checkpoint
from synthesis.models import SynthesisJob
from tests.checkpoint_server import manifest_for, write_manifest
from tests.xtts_install_fixtures import CHECKPOINT
from voices.models import Voice

pytestmark = pytest.mark.django_db(transaction=True)


def install(*args: str) -> str:
    out = io.StringIO()
    call_command("xtts", "install", *args, stdout=out, stdin=io.StringIO(""))
    return out.getvalue()


def actions() -> list[tuple[str, str]]:
    return list(AuditEvent.objects.filter(action__startswith="xtts.").order_by("pk").values_list("action", "outcome"))


def test_a_voice_waiting_for_xtts_becomes_ready_and_speaks_after_the_install(
    xtts_on_a_fresh_install, create_voice, owner_api, target, mirror
) -> None:
    created = create_voice()
    assert created.status_code == 201, created.content
    voice_id = created.json()["id"]
    assert created.json()["status"] == "pending_engine"

    output = install("--accept-license")

    assert "Voice cloning is on. 1 waiting voice(s) queued" in output
    for name in CHECKPOINT:
        assert (target / name).is_file()
    assert actions() == [("xtts.license_accepted", "success"), ("xtts.install", "success")]
    assert Voice.objects.get(pk=voice_id).status == "processing"

    worker = EngineWorker(worker_id="after-install", heartbeats=False)
    worker.run_once()
    assert Voice.objects.get(pk=voice_id).status == "ready"

    response = owner_api.post(
        "/api/v1/synthesis",
        {"text": "Hello there.", "voice": voice_id, "params": {"do_sample": False, "seed": 7, "max_new_tokens": 8}},
        format="json",
    )
    assert response.status_code == 202, response.content
    worker.run_once()
    job = SynthesisJob.objects.get(pk=response.json()["id"])
    assert job.status == "completed" and job.engine == "xtts"
    assert (job.audio_duration or 0) > 0 and job.audio_file


def test_without_accepting_the_licence_nothing_is_downloaded(xtts_on_a_fresh_install, mirror, target) -> None:
    with pytest.raises(CommandError, match="licence was not accepted; nothing was downloaded.*--accept-license"):
        install()

    assert mirror.requests == []
    assert not target.exists()
    assert actions() == []


def test_an_interrupted_install_resumes_where_it_stopped(xtts_on_a_fresh_install, mirror, target) -> None:
    mirror.cut_after["model.pth"] = 4_000_000

    interrupted = "model.pth was interrupted after 4000000 .* run the install again to resume"
    with pytest.raises(CommandError, match=interrupted):
        install("--accept-license")
    assert not (target / "config.json").exists()
    status = io.StringIO()
    call_command("xtts", "status", stdout=status)
    assert "not installed" in status.getvalue() and "install again to resume" in status.getvalue()

    install("--accept-license")

    assert mirror.ranges("model.pth") == [None, "bytes=4000000-"]
    assert (target / "model.pth").read_bytes() == mirror.files["model.pth"]
    assert actions()[-1] == ("xtts.install", "success")


def test_a_corrupt_file_is_refused_and_removed(xtts_on_a_fresh_install, mirror, target) -> None:
    corrupt = bytearray(mirror.files["model.pth"])
    corrupt[len(corrupt) // 2] ^= 0x01
    mirror.served["model.pth"] = bytes(corrupt)

    with pytest.raises(CommandError, match="model.pth does not match the manifest: SHA-256 .* the file was removed"):
        install("--accept-license")

    assert not (target / "model.pth").exists() and not (target / ".download" / "model.pth.part").exists()
    assert not (target / "config.json").exists()
    assert actions() == [("xtts.license_accepted", "success"), ("xtts.install", "failure")]


def test_a_manifest_of_another_checkpoint_is_refused(xtts_on_a_fresh_install, tiny_xtts_dir, tmp_path, target) -> None:
    other = manifest_for(tiny_xtts_dir, CHECKPOINT)
    for entry in other["files"]:
        if entry["name"] == "vocab.json":
            entry["sha256"] = "0" * 64

    with pytest.raises(CommandError, match="vocab.json does not match the manifest"):
        install("--accept-license", "--manifest", str(write_manifest(tmp_path / "other.json", other)))
    assert not (target / "config.json").exists()


def test_a_manifest_that_is_not_one_is_a_clear_error(xtts_on_a_fresh_install, tmp_path, mirror) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"files": [{"name": "model.pth"}]}))

    with pytest.raises(CommandError, match="lacks config.json, vocab.json"):
        install("--accept-license", "--manifest", str(broken))
    assert mirror.requests == []


def test_status_names_the_folder_the_source_and_the_licence(xtts_on_a_fresh_install, target, mirror) -> None:
    out = io.StringIO()
    call_command("xtts", "status", stdout=out)
    text = out.getvalue()

    assert "engine: not available" in text and "xtts install --accept-license" in text
    assert f"checkpoint folder: {target} (not installed)" in text
    assert f"source: {mirror.mirror}" in text
    assert "Coqui Public Model License" in text


def test_manifest_writes_what_a_mirror_needs(tiny_xtts_dir: Path) -> None:
    out = io.StringIO()
    call_command("xtts", "manifest", str(tiny_xtts_dir), stdout=out)
    data: dict[str, Any] = json.loads(out.getvalue())

    assert data == {"model": "xtts_v2", **manifest_for(tiny_xtts_dir)} | {"model": "xtts_v2"}


def test_a_mirror_sending_more_than_the_manifest_says_is_refused_and_a_rerun_starts_clean(
    xtts_on_a_fresh_install, mirror, target
) -> None:
    size = len(mirror.files["model.pth"])
    mirror.served["model.pth"] = mirror.files["model.pth"] + bytes(2 * 1024 * 1024)

    refused = f"model.pth is too long: .* the manifest says {size}; the file was removed"
    for _attempt in range(2):
        with pytest.raises(CommandError, match=refused):
            install("--accept-license")
        assert not (target / ".download" / "model.pth.part").exists()
    assert mirror.ranges("model.pth") == [None, None]  # each run starts afresh
    assert actions()[-1] == ("xtts.install", "failure")

    del mirror.served["model.pth"]
    install("--accept-license")

    assert (target / "model.pth").read_bytes() == mirror.files["model.pth"]


def test_a_manifest_without_sizes_caps_every_file_at_the_setting(
    xtts_on_a_fresh_install, settings, tiny_xtts_dir, tmp_path, mirror, target
) -> None:
    unsized = manifest_for(tiny_xtts_dir, CHECKPOINT)
    for entry in unsized["files"]:
        entry["size"] = None
    settings.XTTS_MODEL_MANIFEST = str(write_manifest(tmp_path / "unsized.json", unsized))
    settings.XTTS_INSTALL_MAX_UNSIZED_BYTES = cap = len(mirror.files["speakers_xtts.pth"]) + 1024
    mirror.served["speakers_xtts.pth"] = mirror.files["speakers_xtts.pth"] + bytes(2 * cap)
    mirror.unsized.add("speakers_xtts.pth")  # no Content-Length: the cap holds while it reads

    refused = f"speakers_xtts.pth is larger than {cap} bytes.*XTTS_INSTALL_MAX_UNSIZED_BYTES"
    with pytest.raises(CommandError, match=refused):
        install("--accept-license")

    assert not (target / ".download" / "speakers_xtts.pth.part").exists()
    assert not (target / "config.json").exists()


def test_a_server_that_drips_is_given_up_on_at_the_minimum_rate(
    xtts_on_a_fresh_install, settings, mirror, target
) -> None:
    settings.XTTS_INSTALL_TIMEOUT_SECONDS = 0.5
    settings.XTTS_INSTALL_MIN_BYTES_PER_SECOND = 10_000
    mirror.drip["vocab.json"] = (1, 0.01)  # 100 bytes/s, never silent for a timeout

    with pytest.raises(CommandError, match="vocab.json slowed to .*XTTS_INSTALL_MIN_BYTES_PER_SECOND.*resume"):
        install("--accept-license")

    assert (target / ".download" / "vocab.json.part").exists()  # kept for a resume
    assert not (target / "config.json").exists()


def test_an_install_stops_at_its_deadline(xtts_on_a_fresh_install, settings, mirror, target) -> None:
    settings.XTTS_INSTALL_DEADLINE_SECONDS = 0.5
    settings.XTTS_INSTALL_MIN_BYTES_PER_SECOND = 0
    mirror.drip["speakers_xtts.pth"] = (64, 0.02)  # the first file, at 3.2 KB/s

    with pytest.raises(CommandError, match="ran past its deadline of 0.5 s .*XTTS_INSTALL_DEADLINE_SECONDS.* resume"):
        install("--accept-license")

    assert actions()[-1] == ("xtts.install", "failure")
    assert not (target / "config.json").exists()


def test_the_default_limits_are_the_documented_ones() -> None:
    assert xtts_install_limits() == xtts_checkpoint.Limits(
        timeout=30.0, min_rate=16 * 1024, deadline=6 * 3600.0, max_unsized=4 * 1024**3
    )
