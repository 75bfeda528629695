"""`python manage.py xtts install|status|manifest`: voice cloning switched on in one step
(docs/voice-cloning.md "Voice cloning").

    python manage.py xtts status
    python manage.py xtts install --accept-license     # or answer the licence prompt
    python manage.py xtts manifest FOLDER > manifest.json   # for a mirror

The work is `engine_setup.services`; this command reads the terminal and draws
the progress bar."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engine_setup.services import (
    LICENSE_NAME,
    LICENSE_SUMMARY,
    InstallError,
    xtts_install,
    xtts_status,
    xtts_target_dir,
)
from speech import xtts_checkpoint


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class _Bar:
    """A one-line progress bar on a terminal, a line per file elsewhere."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.last = 0.0
        self.current = ""

    def __call__(self, name: str, done: int, size: int | None, all_done: int, total: int | None) -> None:
        finished = size is not None and done >= size
        if not self.tty:
            if finished and name != self.current:
                self.current = name
                self.out.write(f"  {name}: {_size(done)}\n")
            return
        now = time.monotonic()
        if now - self.last < 0.1 and not finished:
            return
        self.last = now
        width = 30
        share = (all_done / total) if total else (done / size if size else 0.0)
        filled = int(width * min(share, 1.0))
        self.out.write(
            f"\r  [{'#' * filled}{'.' * (width - filled)}] {share * 100:5.1f}%  {name} {_size(done)}/{_size(size)}   "
        )
        if finished:
            self.out.write("\n")
        self.out.flush()


class Command(BaseCommand):
    help = "Install the XTTS v2 checkpoint (voice cloning), show its status, or write a mirror's manifest."
    stealth_options = ("stdin",)  # where the licence answer is read (tests give their own)

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        install = sub.add_parser("install", help="download, verify and install the checkpoint")
        install.add_argument(
            "--accept-license", action="store_true", help=f"accept the {LICENSE_NAME} (non-commercial) without a prompt"
        )
        install.add_argument("--manifest", help="the manifest to verify a mirror's files against")
        sub.add_parser("status", help="the engine, the checkpoint folder and the licence")
        manifest = sub.add_parser("manifest", help="print the manifest (names, sizes, SHA-256) of a checkpoint folder")
        manifest.add_argument("folder")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "status":
            self._status()
        elif action == "manifest":
            folder = Path(options["folder"])
            if not folder.is_dir():
                raise CommandError(f"{folder} is not a folder")
            try:
                manifest = xtts_checkpoint.manifest_of_folder(folder)
            except xtts_checkpoint.InstallError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(json.dumps(manifest.to_dict(), indent=2))
        else:
            self._install(options)

    def _status(self) -> None:
        status = xtts_status()
        state = status["checkpoint"]
        self.stdout.write(f"engine: {'available' if status['engine_available'] else 'not available'}")
        if status["engine_reason"]:
            self.stdout.write(f"  why: {status['engine_reason']}")
        installed = "installed" if state["installed"] else "not installed"
        self.stdout.write(f"checkpoint folder: {state['folder']} ({installed})")
        if state["partial_bytes"]:
            held = _size(state["partial_bytes"])
            self.stdout.write(f"  an interrupted download holds {held}: install again to resume")
        self.stdout.write(f"source: {status['source']}")
        self.stdout.write(f"licence: {LICENSE_NAME}")

    def _accepted(self, options: dict[str, Any]) -> bool:
        if options["accept_license"]:
            return True
        self.stdout.write(LICENSE_SUMMARY)
        stdin = options.get("stdin") or sys.stdin
        if not stdin.isatty():  # nobody to ask: not accepted
            return False
        self.stdout.write(f"Do you accept the {LICENSE_NAME} (non-commercial use only)? [y/N] ", ending="")
        self.stdout.flush()
        return stdin.readline().strip().lower() in ("y", "yes")

    def _install(self, options: dict[str, Any]) -> None:
        if not self._accepted(options):
            raise CommandError(
                f"The licence was not accepted; nothing was downloaded. The XTTS v2 weights are under the "
                f"{LICENSE_NAME}: run again with --accept-license to accept it."
            )
        self.stdout.write(f"Installing XTTS v2 into {xtts_target_dir()} ...")
        try:
            outcome = xtts_install(
                accept_license=True, manifest_path=options.get("manifest"), on_progress=_Bar(self.stdout)
            )
        except InstallError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Installed {outcome.files} files ({_size(outcome.downloaded_bytes)} downloaded) from {outcome.source}."
        )
        if outcome.engine_available:
            self.stdout.write(
                f"Voice cloning is on. {outcome.voices_requeued} waiting voice(s) queued; the worker prepares them "
                "(a running worker picks up the checkpoint by itself)."
            )
        else:
            self.stdout.write(f"The checkpoint is in place, but the engine cannot run yet: {outcome.engine_reason}")
