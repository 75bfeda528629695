"""Installing the XTTS v2 checkpoint: download, resume, verify, then put in place.

Django-free (the platform's `engine_setup.services` adds the licence record,
the audit log and the events). Two sources:

* a **mirror**: a folder served over HTTP(S) (`XTTS_MODEL_URL`, what air-gapped sites
  keep), checked file by file against a pinned manifest (`Manifest`: name, size and
  SHA-256 of every file);
* the **public hub** through `huggingface_hub` (the voice-cloning extra), at a pinned
  revision; each file is checked against the hashes the hub publishes for it (the
  SHA-256 of an LFS file, the git blob id of a small one) and against the pinned
  manifest where that has a hash.

Files are downloaded into `<target>/.download/<name>.part`; an interrupted download
resumes from where it stopped (HTTP Range). A file that does not match its hash or
size is removed and refused with a clear error; so is one that grows past its size
while it downloads (or past `Limits.max_unsized` where the manifest gives no size),
before more than that is written. A download slower than `Limits.min_rate` or running
past `Limits.deadline` stops with its part kept for a resume (`Limits`: the
XTTS_INSTALL_* settings). Only when every file is verified are they moved into the
target folder, `config.json` last: the engine looks for config.json, model.pth and
vocab.json, so it never sees half a checkpoint.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speech.engines.xtts_engine import REQUIRED_FILES

# The checkpoint `manage.py xtts install` fetches from the hub: coqui's own repository
# at the release coqui-tts describes (XTTS-v2.0.3). A tag, resolved to its commit when
# installing; the commit is recorded with the install.
HUB_REPO_ID = "coqui/XTTS-v2"
HUB_REVISION = "v2.0.3"
CHECKPOINT_FILES: tuple[str, ...] = ("speakers_xtts.pth", "model.pth", "vocab.json", "config.json")
PINNED_MANIFEST = Path(__file__).resolve().parent / "data" / "xtts_v2.manifest.json"

LICENSE_NAME = "Coqui Public Model License 1.0.0 (CPML)"
LICENSE_URL = "https://coqui.ai/cpml"
LICENSE_SUMMARY = (
    "The XTTS v2 weights are released by Coqui under the Coqui Public Model License 1.0.0 "
    "(CPML), a non-commercial licence. You may use the model and its outputs for "
    "non-commercial purposes only (research, personal projects, evaluation); any "
    "commercial use - selling the outputs, or using them in a product or service that "
    "earns money - needs a commercial licence from Coqui (licensing@coqui.ai). The licence "
    "travels with the weights: give it to anyone you share them with, and keep its "
    "notices. The full text: " + LICENSE_URL + ". Speaker's own code is not covered by the "
    "CPML; only the downloaded checkpoint is."
)

STAGING = ".download"
INSTALLED_MANIFEST = "manifest.json"
_CHUNK = 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")

# on_progress(file name, bytes of it so far, its size or None, bytes of all so far, all sizes or None)
Progress = Callable[[str, int, "int | None", int, "int | None"], None]


class InstallError(Exception):
    """Installation failed; the message says what is wrong and what to do."""


class ChecksumMismatch(InstallError):
    pass


class ManifestError(InstallError):
    pass


class FileTooLarge(InstallError):
    """A file the manifest gives no size for grew past `Limits.max_unsized`."""


class DownloadStalled(InstallError):
    """Slower than `Limits.min_rate`, or past `Limits.deadline`; the part stays for a resume."""


@dataclass(frozen=True)
class Limits:
    """How long and how much an install may take; the platform fills these from the
    XTTS_INSTALL_* settings (docs/ARCHITECTURE.md, "Engines"). A read timeout alone does
    not bound a download: a server that sends a byte every few seconds never trips it."""

    timeout: float = 30.0  # seconds a connection may stay silent; also the window `min_rate` is measured over
    min_rate: int = 16 * 1024  # bytes per second, averaged over `timeout`; slower is a stalled download (0: off)
    deadline: float = 6 * 3600.0  # seconds for one install run, every file together (0: none)
    max_unsized: int = 4 * 1024**3  # the most bytes of a file whose size the manifest does not give


DEFAULT_LIMITS = Limits()


# ------------------------------------------------------------------------ manifest


@dataclass(frozen=True)
class ManifestFile:
    name: str
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Manifest:
    model: str
    files: tuple[ManifestFile, ...]
    repo_id: str | None = None
    revision: str | None = None

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "the manifest") -> Manifest:
        if not isinstance(data, dict) or not isinstance(data.get("files"), list):
            raise ManifestError(f"{source} is not a checkpoint manifest: expected a JSON object with a 'files' list")
        files: list[ManifestFile] = []
        for index, entry in enumerate(data["files"]):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise ManifestError(f"{source}: files[{index}] needs a 'name'")
            name, size, sha256 = entry["name"], entry.get("size"), entry.get("sha256")
            if not _NAME.match(name):
                raise ManifestError(f"{source}: {name!r} is not a plain file name")
            if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
                raise ManifestError(f"{source}: the size of {name} must be a whole number of bytes")
            if sha256 is not None and (not isinstance(sha256, str) or not _HEX64.match(sha256.lower())):
                raise ManifestError(f"{source}: the sha256 of {name} must be 64 hexadecimal digits")
            files.append(ManifestFile(name=name, size=size, sha256=sha256.lower() if sha256 else None))
        names = [f.name for f in files]
        if len(set(names)) != len(names):
            raise ManifestError(f"{source} lists a file twice")
        missing = [name for name in REQUIRED_FILES if name not in names]
        if missing:
            raise ManifestError(f"{source} lacks {', '.join(missing)}, which every XTTS v2 checkpoint has")
        return cls(
            model=str(data.get("model") or "xtts_v2"),
            files=tuple(files),
            repo_id=data.get("repo_id"),
            revision=data.get("revision"),
        )

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ManifestError(f"the manifest {path} does not exist") from None
        except (OSError, ValueError) as exc:
            raise ManifestError(f"the manifest {path} could not be read: {exc}") from exc
        return cls.from_dict(data, source=f"the manifest {path}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model}
        if self.repo_id:
            out["repo_id"] = self.repo_id
        if self.revision:
            out["revision"] = self.revision
        out["files"] = [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in self.files]
        return out

    @property
    def total_size(self) -> int | None:
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

    def ordered(self) -> list[ManifestFile]:
        """Install order: config.json last, the required files just before it."""
        rank = {name: i for i, name in enumerate(CHECKPOINT_FILES)}
        return sorted(self.files, key=lambda f: (f.name in REQUIRED_FILES, rank.get(f.name, -1), f.name))


def manifest_of_folder(folder: Path, *, model: str = "xtts_v2", names: Iterable[str] | None = None) -> Manifest:
    """A manifest of the files in `folder` (a verified checkpoint): what a mirror needs."""
    folder = Path(folder)
    chosen = (
        list(names)
        if names is not None
        else sorted(
            p.name for p in folder.iterdir() if p.is_file() and _NAME.match(p.name) and p.name != INSTALLED_MANIFEST
        )
    )
    files = tuple(ManifestFile(name, (folder / name).stat().st_size, file_sha256(folder / name)) for name in chosen)
    return Manifest.from_dict(Manifest(model=model, files=files).to_dict(), source=f"the files in {folder}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------------- status


@dataclass
class CheckpointState:
    folder: Path
    installed: bool  # config.json, model.pth and vocab.json are all there
    missing: list[str] = field(default_factory=list)
    partial_bytes: int = 0  # downloaded so far in .download (a resumable install)

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "installed": self.installed,
            "missing": self.missing,
            "partial_bytes": self.partial_bytes,
        }


def checkpoint_state(folder: Path) -> CheckpointState:
    folder = Path(folder)
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    staging = folder / STAGING
    partial = sum(p.stat().st_size for p in staging.glob("*.part")) if staging.is_dir() else 0
    return CheckpointState(folder=folder, installed=not missing, missing=missing, partial_bytes=partial)


# ----------------------------------------------------------------------- download


@dataclass(frozen=True)
class InstallResult:
    folder: Path
    source: str  # the mirror URL or hub:<repo>@<commit>
    manifest: Manifest  # what was installed, with every file's size and SHA-256
    downloaded_bytes: int  # fetched in this run (resumed parts not counted twice)
    reused: tuple[str, ...]  # files already in place with the right hash


class _Tally:
    def __init__(self, total: int | None, on_progress: Progress | None, limits: Limits) -> None:
        self.total = total
        self.done = 0
        self.fetched = 0
        self.on_progress = on_progress
        self.limits = limits
        self.started = time.monotonic()

    def report(self, name: str, done: int, size: int | None) -> None:
        if self.on_progress is not None:
            self.on_progress(name, done, size, self.done + done, self.total)

    def check_deadline(self, name: str, done: int) -> None:
        deadline = self.limits.deadline
        if deadline and time.monotonic() - self.started > deadline:
            raise DownloadStalled(
                f"the install ran past its deadline of {deadline:g} s (XTTS_INSTALL_DEADLINE_SECONDS) while "
                f"downloading {name}, after {done} bytes of it; run the install again to resume"
            )


class _Pace:
    """The minimum rate of one download, measured over windows of `Limits.timeout` seconds."""

    def __init__(self, tally: _Tally, done: int) -> None:
        self.tally = tally
        self.since = time.monotonic()
        self.since_done = done

    def check(self, name: str, done: int) -> None:
        self.tally.check_deadline(name, done)
        limits = self.tally.limits
        now = time.monotonic()
        elapsed = now - self.since
        if not limits.min_rate or elapsed < limits.timeout:
            return
        rate = (done - self.since_done) / elapsed
        if rate < limits.min_rate:
            raise DownloadStalled(
                f"the download of {name} slowed to {rate:.0f} bytes/s over {elapsed:.1f} s, below the minimum of "
                f"{limits.min_rate} (XTTS_INSTALL_MIN_BYTES_PER_SECOND); stopped after {done} bytes. "
                "Run the install again to resume (or use a faster mirror)"
            )
        self.since, self.since_done = now, done


def _too_large(part: Path, *, name: str, size: int | None, cap: int, sent: int, exact: bool) -> InstallError:
    """A file longer than it may be: removed, so that the next run starts it afresh."""
    part.unlink(missing_ok=True)
    amount = f"{sent} bytes" if exact else f"more than {cap} bytes"
    if size is not None:
        return ChecksumMismatch(
            f"{name} is too long: the server sends {amount}, the manifest says {size}; the file was removed. "
            "Check the mirror (or the manifest) and run the install again."
        )
    return FileTooLarge(
        f"{name} is larger than {cap} bytes (the server sends {amount}), the most Speaker downloads for a file "
        "whose size the manifest does not give (XTTS_INSTALL_MAX_UNSIZED_BYTES); the file was removed. Give a "
        "manifest with sizes (`manage.py xtts manifest FOLDER` writes one) or raise the limit."
    )


def _open(url: str, *, headers: dict[str, str], timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": "speaker-xtts-install", **headers})
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) only, checked by the caller


def _fetch(
    url: str,
    part: Path,
    *,
    name: str,
    size: int | None,
    tally: _Tally,
    headers: dict[str, str] | None = None,
) -> None:
    """Download `url` into `part`, resuming from its current length with a Range request.
    A server that ignores Range (200) restarts the file from the beginning. Never writes
    more than the file's size (or `max_unsized`): a longer file is removed and refused."""
    limits = tally.limits
    cap = size if size is not None else limits.max_unsized
    have = part.stat().st_size if part.exists() else 0
    if have > cap:  # longer than it can be: start over
        part.unlink()
        have = 0
    if size is not None and have == size:
        tally.report(name, have, size)
        return
    tally.check_deadline(name, have)
    extra = dict(headers or {})
    if have:
        extra["Range"] = f"bytes={have}-"
    try:
        response = _open(url, headers=extra, timeout=limits.timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: the part is complete (or wrong; the hash says)
            tally.report(name, have, size)
            return
        raise InstallError(f"{url} answered HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InstallError(f"could not download {url}: {reason}") from exc
    with response:
        status = getattr(response, "status", 200)
        mode = "ab"
        if have and status == 206:
            first = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
            if not first or int(first.group(1)) != have:
                raise InstallError(f"{url} resumed at the wrong place ({response.headers.get('Content-Range')!r})")
        elif have:
            mode, have = "wb", 0  # the server sent the whole file
        done = have
        length = response.headers.get("Content-Length")
        expected = have + int(length) if length and length.isdigit() else None
        if expected is not None and expected > cap:  # refused before a byte of it is read
            raise _too_large(part, name=name, size=size, cap=cap, sent=expected, exact=True)
        pace = _Pace(tally, done)
        over = False
        try:
            with open(part, mode) as out:
                while True:
                    # read1: whatever has arrived (a slow server is seen as it drips), never past the cap + 1
                    block = response.read1(min(_CHUNK, cap - done + 1))
                    if not block:
                        break
                    if done + len(block) > cap:
                        over = True
                        break
                    out.write(block)
                    done += len(block)
                    tally.fetched += len(block)
                    tally.report(name, done, size)
                    pace.check(name, done)
        except (OSError, http.client.HTTPException) as exc:  # the connection dropped: the part stays for a resume
            raise InstallError(
                f"the download of {name} was interrupted after {done} bytes ({exc}); run the install again to resume"
            ) from exc
        if over:
            raise _too_large(part, name=name, size=size, cap=cap, sent=cap, exact=False)
        if expected is not None and done < expected:  # the server closed the connection early
            raise InstallError(
                f"the download of {name} was interrupted after {done} of {expected} bytes; "
                "run the install again to resume"
            )


def _verify(part: Path, entry: ManifestFile, *, git_blob: str | None = None) -> str:
    """The file's SHA-256, once it matches the manifest (and the hub's git blob id when
    given). A mismatch removes the file and raises ChecksumMismatch."""
    actual_size = part.stat().st_size
    if entry.size is not None and actual_size != entry.size:
        part.unlink()
        kind = "truncated" if actual_size < entry.size else "too long"
        raise ChecksumMismatch(
            f"{entry.name} is {kind}: {actual_size} bytes, the manifest says {entry.size}; the file was removed. "
            "Check the mirror (or the manifest) and run the install again."
        )
    sha256 = file_sha256(part)
    if entry.sha256 is not None and sha256 != entry.sha256:
        part.unlink()
        raise ChecksumMismatch(
            f"{entry.name} does not match the manifest: SHA-256 {sha256}, expected {entry.sha256}; the file was "
            "removed. The mirror serves a different or corrupt file, or the manifest belongs to another checkpoint."
        )
    if git_blob is not None:
        blob = hashlib.sha1(f"blob {actual_size}\0".encode())  # noqa: S324 - git's object id, not security
        with open(part, "rb") as handle:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                blob.update(block)
        if blob.hexdigest() != git_blob:
            part.unlink()
            raise ChecksumMismatch(
                f"{entry.name} does not match the hub's git blob id {git_blob}; the file was removed."
            )
    return sha256


def _place(target: Path, verified: dict[str, Path], manifest: Manifest) -> None:
    for entry in manifest.ordered():
        os.replace(verified[entry.name], target / entry.name)


def _stage(target: Path) -> Path:
    staging = target / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    return staging


def _already_there(target: Path, entry: ManifestFile) -> bool:
    path = target / entry.name
    if not path.is_file() or entry.sha256 is None:
        return False
    if entry.size is not None and path.stat().st_size != entry.size:
        return False
    return file_sha256(path) == entry.sha256


def _finish(target: Path, manifest: Manifest, verified_hashes: dict[str, str], source: str) -> Manifest:
    installed = Manifest(
        model=manifest.model,
        repo_id=manifest.repo_id,
        revision=manifest.revision,
        files=tuple(
            ManifestFile(f.name, (target / f.name).stat().st_size, verified_hashes[f.name]) for f in manifest.files
        ),
    )
    (target / INSTALLED_MANIFEST).write_text(json.dumps({**installed.to_dict(), "source": source}, indent=2) + "\n")
    shutil.rmtree(target / STAGING, ignore_errors=True)
    return installed


def install_from_mirror(
    *,
    base_url: str,
    manifest: Manifest,
    target: Path,
    on_progress: Progress | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> InstallResult:
    """Fetch every manifest file from the mirror folder `base_url`, verify, put in place."""
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InstallError(f"XTTS_MODEL_URL must be an http(s) URL of a folder, got {base_url!r}")
    unhashed = [f.name for f in manifest.files if f.sha256 is None]
    if unhashed:
        raise ManifestError(
            f"the manifest has no SHA-256 for {', '.join(unhashed)}, so a mirror's files cannot be verified; "
            "give a manifest with every hash (`manage.py xtts manifest FOLDER` writes one from a verified checkpoint)"
        )
    base = base_url if base_url.endswith("/") else base_url + "/"
    target = Path(target)
    staging = _stage(target)
    tally = _Tally(manifest.total_size, on_progress, limits)
    verified: dict[str, Path] = {}
    hashes: dict[str, str] = {}
    reused: list[str] = []
    for entry in manifest.ordered():
        if _already_there(target, entry):
            reused.append(entry.name)
            hashes[entry.name] = entry.sha256 or ""
            tally.done += entry.size or 0
            continue
        part = staging / f"{entry.name}.part"
        _fetch(base + urllib.parse.quote(entry.name), part, name=entry.name, size=entry.size, tally=tally)
        hashes[entry.name] = _verify(part, entry)
        verified[entry.name] = part
        tally.done += part.stat().st_size
    _place(target, verified, Manifest(manifest.model, tuple(f for f in manifest.files if f.name in verified)))
    installed = _finish(target, manifest, hashes, base)
    return InstallResult(target, base, installed, tally.fetched, tuple(reused))


def install_from_hub(
    *,
    target: Path,
    manifest: Manifest | None = None,
    repo_id: str = HUB_REPO_ID,
    revision: str = HUB_REVISION,
    on_progress: Progress | None = None,
    limits: Limits = DEFAULT_LIMITS,
    endpoint: str | None = None,
) -> InstallResult:
    """Fetch the checkpoint from the hub at `revision` through huggingface_hub: the hub's
    metadata names each file's hash (LFS SHA-256 or git blob id), the download itself
    resumes like the mirror's. Needs the voice-cloning extra (huggingface_hub). `endpoint`:
    another hub than huggingface_hub's default (which also follows HF_ENDPOINT)."""
    try:
        from huggingface_hub import get_hf_file_metadata, hf_hub_url
        from huggingface_hub.utils import build_hf_headers
    except ImportError:
        raise InstallError(
            "downloading from the hub needs huggingface_hub, part of the voice-cloning extra: "
            "pip install -r requirements-xtts.txt (or set XTTS_MODEL_URL to a mirror)"
        ) from None
    pinned = {f.name: f for f in manifest.files} if manifest else {}
    names = [f.name for f in manifest.files] if manifest else list(CHECKPOINT_FILES)
    entries: list[tuple[ManifestFile, str, str | None, str]] = []
    commit = None
    for name in names:
        try:
            meta = get_hf_file_metadata(
                hf_hub_url(repo_id, name, revision=revision, endpoint=endpoint), timeout=limits.timeout
            )
        except Exception as exc:  # noqa: BLE001 - every failure of the hub means the same to the operator
            raise InstallError(
                f"could not reach the hub for {repo_id}@{revision} ({name}): {type(exc).__name__}: {exc}. "
                "Without internet, set XTTS_MODEL_URL to a mirror of the checkpoint."
            ) from exc
        etag = (meta.etag or "").strip('"').lower()
        commit = meta.commit_hash or commit
        known = pinned.get(name, ManifestFile(name))
        sha256, blob = known.sha256, None
        if _HEX64.match(etag):  # an LFS file: the hub publishes its SHA-256
            if sha256 is not None and sha256 != etag:
                raise ChecksumMismatch(
                    f"the hub's {name} at {revision} has SHA-256 {etag}, the pinned manifest says {sha256}: "
                    "the revision changed; nothing was downloaded"
                )
            sha256 = etag
        elif _HEX40.match(etag):  # a small file kept in git: its blob id
            blob = etag
        else:
            raise InstallError(f"the hub published no hash for {name} (etag {meta.etag!r}); refusing to install it")
        size = meta.size if meta.size is not None else known.size
        entries.append((ManifestFile(name, size, sha256), meta.location, blob, name))
    full = Manifest(model="xtts_v2", repo_id=repo_id, revision=commit or revision, files=tuple(e[0] for e in entries))
    target = Path(target)
    staging = _stage(target)
    tally = _Tally(full.total_size, on_progress, limits)
    headers = build_hf_headers()
    verified: dict[str, Path] = {}
    hashes: dict[str, str] = {}
    reused: list[str] = []
    by_name = {e[3]: e for e in entries}
    for entry in full.ordered():
        _, url, blob, _ = by_name[entry.name]
        if _already_there(target, entry):
            reused.append(entry.name)
            hashes[entry.name] = entry.sha256 or ""
            tally.done += entry.size or 0
            continue
        part = staging / f"{entry.name}.part"
        _fetch(url, part, name=entry.name, size=entry.size, tally=tally, headers=headers)
        hashes[entry.name] = _verify(part, entry, git_blob=blob)
        verified[entry.name] = part
        tally.done += part.stat().st_size
    _place(target, verified, Manifest(full.model, tuple(f for f in full.files if f.name in verified)))
    source = f"hub:{repo_id}@{commit or revision}"
    installed = _finish(target, full, hashes, source)
    return InstallResult(target, source, installed, tally.fetched, tuple(reused))
