"""The built-in voices are synced when a process starts: the web process as its ASGI
application is built (speaker_site/asgi.py), the engine worker in its start-up, and on
demand with `python manage.py syncvoices`."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

from tests.live import ROOT, LiveServer
from voices.models import Voice


def builtin_rows(server: LiveServer) -> list[tuple[str, str, str]]:
    with sqlite3.connect(server.workdir / "db.sqlite3") as db:
        return db.execute("SELECT engine, builtin_key, status FROM voices_voice WHERE is_builtin").fetchall()


def start_web_process(server: LiveServer) -> subprocess.CompletedProcess[str]:
    """What daphne does first: import the ASGI application (its worker left out)."""
    return subprocess.run(
        [sys.executable, "-c", "import speaker_site.asgi"],
        cwd=ROOT,
        env={**server.env, "EMBEDDED_WORKER": "false"},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_web_process_syncs_them_as_its_application_is_built(tmp_path: Path) -> None:
    server = LiveServer(workdir=tmp_path)
    server.manage("migrate", "--noinput")
    assert builtin_rows(server) == []

    started = start_web_process(server)

    assert started.returncode == 0, started.stderr
    assert builtin_rows(server) == [("piper", "joe", "ready")]


def test_a_database_not_migrated_yet_does_not_stop_the_web_process(tmp_path: Path) -> None:
    started = start_web_process(LiveServer(workdir=tmp_path))

    assert started.returncode == 0, started.stderr
    assert "built-in voices not synced at start-up" in started.stderr
    assert "python manage.py syncvoices" in started.stderr


def test_syncvoices_syncs_them_and_says_so(piper_only, db) -> None:  # type: ignore[no-untyped-def]
    Voice.objects.filter(is_builtin=True).delete()
    out = io.StringIO()

    call_command("syncvoices", stdout=out)

    assert Voice.objects.get(is_builtin=True, builtin_key="joe").status == "ready"
    assert out.getvalue().strip() == "1 built-in voices ready, 0 waiting for their engine."
