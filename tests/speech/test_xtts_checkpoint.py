"""speech.xtts_checkpoint: the Django-free downloader, against a real HTTP server on
127.0.0.1 (tests/checkpoint_server.py) serving a small stand-in checkpoint."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from speech import xtts_checkpoint as ckpt
from tests.checkpoint_server import HUB_COMMIT, CheckpointServer, manifest_for, serve

FILES = {
    "config.json": b'{"model": "xtts"}\n',
    "vocab.json": b'{"vocab": [1, 2, 3]}\n',
    "model.pth": os.urandom(3 * 1024 * 1024 + 17),  # several read blocks
    "speakers_xtts.pth": os.urandom(2048),
}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def server(source: Path) -> Iterator[CheckpointServer]:
    yield from serve(source)


@pytest.fixture
def manifest(source: Path) -> ckpt.Manifest:
    return ckpt.Manifest.from_dict(manifest_for(source))


def test_a_mirror_install_verifies_every_file_and_places_config_json_last(server, manifest, tmp_path) -> None:
    target = tmp_path / "xtts_v2"
    seen: list[str] = []

    result = ckpt.install_from_mirror(
        base_url=server.mirror, manifest=manifest, target=target, on_progress=lambda name, *_: seen.append(name)
    )

    for name, data in FILES.items():
        assert (target / name).read_bytes() == data
    assert [name for name in dict.fromkeys(seen)] == ["speakers_xtts.pth", "model.pth", "vocab.json", "config.json"]
    assert not (target / ckpt.STAGING).exists()
    assert result.downloaded_bytes == sum(len(d) for d in FILES.values())
    installed = json.loads((target / ckpt.INSTALLED_MANIFEST).read_text())
    assert {f["name"]: f["sha256"] for f in installed["files"]} == {
        n: hashlib.sha256(d).hexdigest() for n, d in FILES.items()
    }


def test_an_interrupted_download_resumes_where_it_stopped(server, manifest, tmp_path) -> None:
    target = tmp_path / "xtts_v2"
    server.cut_after["model.pth"] = 1_000_000

    with pytest.raises(ckpt.InstallError, match="interrupted after .* run the install again to resume"):
        ckpt.install_from_mirror(base_url=server.mirror, manifest=manifest, target=target)
    assert (target / ckpt.STAGING / "model.pth.part").stat().st_size == 1_000_000
    assert not (target / "config.json").exists()  # the engine sees nothing yet

    result = ckpt.install_from_mirror(base_url=server.mirror, manifest=manifest, target=target)

    assert server.ranges("model.pth") == [None, "bytes=1000000-"]
    assert (target / "model.pth").read_bytes() == FILES["model.pth"]
    assert result.downloaded_bytes == sum(len(d) for d in FILES.values()) - 1_000_000 - len(FILES["speakers_xtts.pth"])
    assert server.ranges("speakers_xtts.pth") == [None]  # complete and kept: not fetched again


def test_a_server_that_ignores_range_sends_the_whole_file_again(server, manifest, tmp_path) -> None:
    target = tmp_path / "xtts_v2"
    server.cut_after["model.pth"] = 500_000
    with pytest.raises(ckpt.InstallError):
        ckpt.install_from_mirror(base_url=server.mirror, manifest=manifest, target=target)
    server.ignore_range = True

    ckpt.install_from_mirror(base_url=server.mirror, manifest=manifest, target=target)

    assert (target / "model.pth").read_bytes() == FILES["model.pth"]


def test_a_corrupt_file_is_refused_removed_and_nothing_is_installed(server, manifest, tmp_path) -> None:
    target = tmp_path / "xtts_v2"
    bad = bytearray(FILES["model.pth"])
    bad[1234] ^= 0xFF
    server.served["model.pth"] = bytes(bad)

    with pytest.raises(ckpt.ChecksumMismatch, match="model.pth does not match the manifest: SHA-256 .* removed"):
        ckpt.install_from_mirror(base_url=server.mirror, manifest=manifest, target=target)

    assert not (target / ckpt.STAGING / "model.pth.part").exists()
    assert not any((target / name).exists() for name in FILES)


def test_a_truncated_file_is_refused_by_its_size(server, manifest, tmp_path) -> None:
    target = tmp_path / "xtts_v2"
    server.served["model.pth"] = FILES["model.pth"][:-100]

    with pytest.raises(ckpt.ChecksumMismatch, match="model.pth is truncated: .* the manifest says"):
        ckpt.install_from_mirror(base_url=server.mirror, manifest=manifest, target=target)
    assert not (target / "model.pth").exists()


@pytest.mark.parametrize("advertised", [True, False], ids=["with-content-length", "without-content-length"])
def test_a_file_longer_than_the_manifest_says_is_refused_removed_and_a_rerun_starts_clean(
    server, manifest, tmp_path, advertised
) -> None:
    target = tmp_path / "xtts_v2"
    size = len(FILES["model.pth"])
    server.served["model.pth"] = FILES["model.pth"] + os.urandom(2 * 1024 * 1024)  # two read blocks too many
    if not advertised:
        server.unsized.add("model.pth")
    largest: dict[str, int] = {}

    def seen(name: str, done: int, *_: object) -> None:
        largest[name] = max(done, largest.get(name, 0))

    refused = f"model.pth is too long: .* the manifest says {size}; the file was removed"
    for _attempt in range(2):
        with pytest.raises(ckpt.ChecksumMismatch, match=refused):
            ckpt.install_from_mirror(base_url=server.mirror, manifest=manifest, target=target, on_progress=seen)
        assert not (target / ckpt.STAGING / "model.pth.part").exists()
        assert not (target / "config.json").exists()
    assert largest.get("model.pth", 0) <= size  # never took more than the file can be
    assert server.ranges("model.pth") == [None, None]  # the re-run started afresh, no resume of a wrong file

    del server.served["model.pth"]  # the mirror fixed
    ckpt.install_from_mirror(base_url=server.mirror, manifest=manifest, target=target)

    assert (target / "model.pth").read_bytes() == FILES["model.pth"]


def _without_sizes(source: Path) -> ckpt.Manifest:
    data = manifest_for(source)
    for entry in data["files"]:
        entry["size"] = None
    return ckpt.Manifest.from_dict(data)


@pytest.mark.parametrize("advertised", [True, False], ids=["with-content-length", "without-content-length"])
def test_a_file_the_manifest_gives_no_size_for_is_capped(server, source, tmp_path, advertised) -> None:
    target = tmp_path / "xtts_v2"
    cap = 4 * 1024 * 1024  # room for model.pth
    server.served["vocab.json"] = b"x" * (cap + 2 * 1024 * 1024)  # the manifest's vocab.json is 22 bytes
    if not advertised:
        server.unsized.add("vocab.json")
    largest: dict[str, int] = {}

    def seen(name: str, done: int, *_: object) -> None:
        largest[name] = max(done, largest.get(name, 0))

    refused = f"vocab.json is larger than {cap} bytes.*XTTS_INSTALL_MAX_UNSIZED_BYTES"
    with pytest.raises(ckpt.FileTooLarge, match=refused):
        ckpt.install_from_mirror(
            base_url=server.mirror,
            manifest=_without_sizes(source),
            target=target,
            on_progress=seen,
            limits=ckpt.Limits(max_unsized=cap),
        )

    assert largest.get("vocab.json", 0) <= cap
    assert not (target / ckpt.STAGING / "vocab.json.part").exists()
    assert not (target / "config.json").exists()


def test_a_manifest_without_sizes_installs_files_within_the_cap(server, source, tmp_path) -> None:
    target = tmp_path / "xtts_v2"
    server.unsized.update(FILES)

    ckpt.install_from_mirror(
        base_url=server.mirror,
        manifest=_without_sizes(source),
        target=target,
        limits=ckpt.Limits(max_unsized=len(FILES["model.pth"])),
    )

    for name, data in FILES.items():
        assert (target / name).read_bytes() == data


def test_a_server_dripping_bytes_is_given_up_on_below_the_minimum_rate(server, manifest, tmp_path) -> None:
    target = tmp_path / "xtts_v2"
    server.drip["speakers_xtts.pth"] = (1, 0.005)  # 2048 bytes over 10 s, never silent long enough for a timeout
    started = time.monotonic()

    stalled = "speakers_xtts.pth slowed to .* below the minimum of 10000 .* resume"
    with pytest.raises(ckpt.DownloadStalled, match=stalled):
        ckpt.install_from_mirror(
            base_url=server.mirror, manifest=manifest, target=target, limits=ckpt.Limits(timeout=0.5, min_rate=10_000)
        )

    assert time.monotonic() - started < 5
    kept = (target / ckpt.STAGING / "speakers_xtts.pth.part").stat().st_size
    assert 0 < kept < len(FILES["speakers_xtts.pth"])  # kept for a resume


def test_an_install_stops_at_its_deadline_however_steadily_the_server_sends(server, manifest, tmp_path) -> None:
    target = tmp_path / "xtts_v2"
    server.drip["speakers_xtts.pth"] = (16, 0.05)  # 320 bytes/s: 6.4 s for the file
    started = time.monotonic()

    with pytest.raises(ckpt.DownloadStalled, match="ran past its deadline of 0.5 s .* speakers_xtts.pth.*resume"):
        ckpt.install_from_mirror(
            base_url=server.mirror, manifest=manifest, target=target, limits=ckpt.Limits(deadline=0.5, min_rate=0)
        )

    assert time.monotonic() - started < 3
    assert (target / ckpt.STAGING / "speakers_xtts.pth.part").exists()
    assert not (target / "config.json").exists()


def test_a_manifest_without_hashes_cannot_verify_a_mirror(server, tmp_path) -> None:
    pinned = ckpt.Manifest.load(ckpt.PINNED_MANIFEST)

    with pytest.raises(ckpt.ManifestError, match="no SHA-256 for .*manage.py xtts manifest"):
        ckpt.install_from_mirror(base_url=server.mirror, manifest=pinned, target=tmp_path / "x")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "expected a JSON object with a 'files' list"),
        ({"files": [{"name": "../model.pth"}]}, "not a plain file name"),
        ({"files": [{"name": "config.json", "sha256": "abc"}]}, "64 hexadecimal digits"),
        ({"files": [{"name": "config.json", "size": -1}]}, "whole number of bytes"),
        ({"files": [{"name": "config.json"}, {"name": "vocab.json"}]}, "lacks model.pth"),
    ],
)
def test_a_malformed_manifest_is_refused_with_what_is_wrong(data, message) -> None:
    with pytest.raises(ckpt.ManifestError, match=message):
        ckpt.Manifest.from_dict(data)


def test_the_pinned_manifest_names_the_hub_revision_and_the_checkpoint_files() -> None:
    pinned = ckpt.Manifest.load(ckpt.PINNED_MANIFEST)

    assert (pinned.repo_id, pinned.revision) == (ckpt.HUB_REPO_ID, ckpt.HUB_REVISION)
    assert [f.name for f in pinned.ordered()] == list(ckpt.CHECKPOINT_FILES)


def test_the_hub_path_checks_each_file_against_the_hashes_the_hub_publishes(server, tmp_path) -> None:
    pytest.importorskip("huggingface_hub")
    target = tmp_path / "xtts_v2"

    # The hub, played by the local server.
    result = ckpt.install_from_hub(target=target, repo_id="coqui/XTTS-v2", revision="v2.0.3", endpoint=server.url)

    assert result.source == f"hub:coqui/XTTS-v2@{HUB_COMMIT}"
    for name, data in FILES.items():
        assert (target / name).read_bytes() == data
    heads = [path for method, path, _ in server.requests if method == "HEAD"]
    assert "/coqui/XTTS-v2/resolve/v2.0.3/model.pth" in heads


def test_the_hub_path_refuses_a_file_whose_bytes_differ_from_the_published_hash(server, tmp_path) -> None:
    pytest.importorskip("huggingface_hub")
    server.served["vocab.json"] = b'{"vocab": [9, 9, 9]}\n'  # same size, other bytes

    with pytest.raises(ckpt.ChecksumMismatch, match="vocab.json does not match the hub's git blob id"):
        ckpt.install_from_hub(target=tmp_path / "xtts_v2", endpoint=server.url)
    assert not (tmp_path / "xtts_v2" / "config.json").exists()


def test_an_unreachable_hub_is_a_clear_error_and_leaves_no_files(tmp_path) -> None:
    pytest.importorskip("huggingface_hub")

    with pytest.raises(ckpt.InstallError, match="could not reach the hub .* set XTTS_MODEL_URL to a mirror"):
        ckpt.install_from_hub(
            target=tmp_path / "xtts_v2", limits=ckpt.Limits(timeout=5), endpoint="http://127.0.0.1:9"
        )  # nothing there
    assert not (tmp_path / "xtts_v2").exists()
