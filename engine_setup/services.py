"""Switching voice cloning on: the XTTS v2 checkpoint installed in one guided step
(docs/voice-cloning.md "Voice cloning"), from `manage.py xtts install` or the staff dashboard.

The download itself is `speech.xtts_checkpoint` (Django-free: mirror or hub, resume,
SHA-256 against a pinned manifest). This module adds what the platform needs around it:
the operator's explicit acceptance of the model licence (recorded in the audit log, and
next to the weights as coqui's `tos_agreed.txt`), progress events for the dashboard,
the download's limits from the XTTS_INSTALL_* settings, and, once the files are in
place, the voices waiting for the engine: they are queued again and the worker prepares
them by itself (`voice_requeue_pending`, then a wake-up).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from core.engines import get_registry, reset_registry, xtts_model_dir
from core.events import send_user_event
from monitoring.models import AuditEvent
from monitoring.services import audit_record
from speech import xtts_checkpoint as ckpt
from voices.services.conditioning import voice_requeue_pending

logger = logging.getLogger("speaker.engines")

LICENSE_NAME = ckpt.LICENSE_NAME
LICENSE_URL = ckpt.LICENSE_URL
LICENSE_SUMMARY = ckpt.LICENSE_SUMMARY
InstallError = ckpt.InstallError

_install_lock = threading.Lock()
_progress_state: dict[str, Any] = {}


class LicenseNotAccepted(ckpt.InstallError):
    pass


@dataclass(frozen=True)
class XttsInstallOutcome:
    folder: Path
    source: str
    files: int
    downloaded_bytes: int
    engine_available: bool
    engine_reason: str | None
    voices_requeued: int


def xtts_target_dir() -> Path:
    """Where the checkpoint goes: XTTS_MODEL_DIR, else var/models/xtts_v2."""
    return Path(settings.XTTS_MODEL_DIR) if settings.XTTS_MODEL_DIR else Path(settings.XTTS_DEFAULT_MODEL_DIR)


def xtts_source() -> str:
    return settings.XTTS_MODEL_URL or f"hub:{ckpt.HUB_REPO_ID}@{ckpt.HUB_REVISION}"


def xtts_status() -> dict[str, Any]:
    """The engine's state for the dashboard and `manage.py xtts status`: never loads a model."""
    registry = get_registry()
    reason = registry.reason("xtts")
    state = ckpt.checkpoint_state(xtts_target_dir())
    return {
        "engine_enabled": "xtts" in registry.names,
        "engine_available": reason is None,
        "engine_loaded": reason is None and registry.engine("xtts").is_loaded,
        "engine_reason": reason,
        "checkpoint": state.to_dict(),
        "source": xtts_source(),
        "license": {"name": LICENSE_NAME, "url": LICENSE_URL, "summary": LICENSE_SUMMARY},
        "installing": _install_lock.locked(),
        "progress": dict(_progress_state),
    }


def xtts_install_limits() -> ckpt.Limits:
    """The download's limits (docs/voice-cloning.md "Voice cloning"): silence, minimum rate, deadline, size cap."""
    return ckpt.Limits(
        timeout=settings.XTTS_INSTALL_TIMEOUT_SECONDS,
        min_rate=settings.XTTS_INSTALL_MIN_BYTES_PER_SECOND,
        deadline=settings.XTTS_INSTALL_DEADLINE_SECONDS,
        max_unsized=settings.XTTS_INSTALL_MAX_UNSIZED_BYTES,
    )


def _manifest(path: str | Path | None) -> ckpt.Manifest:
    chosen = path or settings.XTTS_MODEL_MANIFEST or ckpt.PINNED_MANIFEST
    return ckpt.Manifest.load(Path(chosen))


def xtts_install(
    *,
    accept_license: bool,
    actor: Any = None,
    manifest_path: str | Path | None = None,
    on_progress: ckpt.Progress | None = None,
) -> XttsInstallOutcome:
    """Download, verify and put in place the XTTS v2 checkpoint, from XTTS_MODEL_URL
    (a mirror) or the hub. Refused unless the licence is accepted; the acceptance and
    the outcome go to the audit log. Afterwards the voices waiting for the engine are
    queued again and the worker prepares them."""
    if not accept_license:
        raise LicenseNotAccepted(
            f"the XTTS v2 weights are under the {LICENSE_NAME}, which allows non-commercial use only "
            f"({LICENSE_URL}); accept it to install them (--accept-license)"
        )
    if not _install_lock.acquire(blocking=False):
        raise InstallError("an XTTS install is already running in this process; wait for it to finish")
    target = xtts_target_dir()
    source = xtts_source()
    try:
        manifest = _manifest(manifest_path)
        audit_record(
            action="xtts.license_accepted",
            user=actor,
            target_type="engine",
            target_id="xtts",
            details={"license": LICENSE_NAME, "url": LICENSE_URL, "folder": str(target), "source": source},
        )
        _progress_state.clear()
        _progress_state.update({"phase": "downloading", "done": 0, "total": manifest.total_size})
        try:
            limits = xtts_install_limits()
            if settings.XTTS_MODEL_URL:
                result = ckpt.install_from_mirror(
                    base_url=settings.XTTS_MODEL_URL,
                    manifest=manifest,
                    target=target,
                    on_progress=on_progress,
                    limits=limits,
                )
            else:
                result = ckpt.install_from_hub(target=target, manifest=manifest, on_progress=on_progress, limits=limits)
        except ckpt.InstallError as exc:
            _progress_state.update({"phase": "failed", "error": str(exc)})
            audit_record(
                action="xtts.install",
                user=actor,
                target_type="engine",
                target_id="xtts",
                outcome=AuditEvent.Outcome.FAILURE,
                details={"folder": str(target), "source": source, "error": str(exc)},
            )
            raise
        (target / "tos_agreed.txt").write_text(
            f"Accepted the {LICENSE_NAME} ({LICENSE_URL}) by {getattr(actor, 'username', '') or 'the operator'} "
            f"on {time.strftime('%Y-%m-%d %H:%M:%S %Z')}.\n",
            encoding="utf-8",
        )
        audit_record(
            action="xtts.install",
            user=actor,
            target_type="engine",
            target_id="xtts",
            details={
                "folder": str(target),
                "source": result.source,
                "files": {f.name: f.sha256 for f in result.manifest.files},
                "downloaded_bytes": result.downloaded_bytes,
            },
        )
        _progress_state.update({"phase": "installed"})
    finally:
        _install_lock.release()
    return _engine_switched_on(result)


def _engine_switched_on(result: ckpt.InstallResult) -> XttsInstallOutcome:
    """The engine sees the new files: this process's registry is rebuilt when it was
    built without the folder (or remembered a failed load); then the voices waiting for
    it are queued again and the worker is woken to prepare them."""
    registry = get_registry()
    if registry.reason("xtts") is not None or registry.config.xtts_model_dir != xtts_model_dir():
        reset_registry()
        registry = get_registry()
    reason = registry.reason("xtts")
    requeued = 0
    if reason is None:
        with transaction.atomic():
            requeued = voice_requeue_pending()
    return XttsInstallOutcome(
        folder=result.folder,
        source=result.source,
        files=len(result.manifest.files),
        downloaded_bytes=result.downloaded_bytes,
        engine_available=reason is None,
        engine_reason=reason,
        voices_requeued=requeued,
    )


class _EventProgress:
    """Progress as `engine.install` events to one user, at most every 0.5 s."""

    def __init__(self, user_id: int, *, interval: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.user_id = user_id
        self.interval = interval
        self.clock = clock
        self.last = 0.0

    def __call__(self, name: str, done: int, size: int | None, all_done: int, total: int | None) -> None:
        _progress_state.update({"phase": "downloading", "file": name, "done": all_done, "total": total})
        now = self.clock()
        if now - self.last < self.interval and not (size is not None and done == size):
            return
        self.last = now
        self.send("downloading", file=name, file_done=done, file_size=size, done=all_done, total=total)

    def send(self, phase: str, **payload: Any) -> None:
        send_user_event(
            user_id=self.user_id, event="engine.install", payload={"engine": "xtts", "phase": phase, **payload}
        )


def xtts_install_start(*, actor: Any) -> threading.Thread:
    """The dashboard's "Install XTTS": the install runs in a thread of this process and
    reports to the staff member over the websocket (`engine.install` events: phase
    downloading with bytes done/total, then installed or failed)."""
    if _install_lock.locked():
        raise InstallError("an XTTS install is already running; its progress is shown here")
    progress = _EventProgress(actor.pk)

    def failed(error: str) -> None:
        # Kept for xtts_status too: the page may read it after the event went unheard.
        _progress_state.clear()
        _progress_state.update({"phase": "failed", "error": error})
        progress.send("failed", error=error)

    def run() -> None:
        try:
            outcome = xtts_install(accept_license=True, actor=actor, on_progress=progress)
        except ckpt.InstallError as exc:
            failed(str(exc))
        except Exception as exc:  # a thread's failure must reach the page, not only the log
            logger.exception("xtts install failed")
            failed(f"{type(exc).__name__}: {exc}")
        else:
            progress.send(
                "installed",
                folder=str(outcome.folder),
                engine_available=outcome.engine_available,
                engine_reason=outcome.engine_reason,
                voices_requeued=outcome.voices_requeued,
            )
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="xtts-install", daemon=True)
    thread.start()
    return thread
