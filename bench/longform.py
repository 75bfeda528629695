"""Long-form benchmark (not a test): a 20 000-word public-domain book read by Piper with
1 and with 2 `runengine` workers on PostgreSQL + Redis (docs/productions.md "Long-form productions").

    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/longform.py [--words 20000] [--workers 1 2]

For each worker count: start the workers, wait for their heartbeats (models loaded),
create one production (bench/texts/gettysburg.txt repeated as chapters, cut at
--words), and time it from acceptance to completed (assembly included). Prints wall
time, audio seconds per wall second and the ratio to the one-worker run; writes JSON to
bench/results/longform.json. On a machine with two cores the ratio shows the
scheduling (both workers take segments), not speed: two Piper processes share the
same two cores a single one already uses.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "speaker_site.settings")
os.environ.setdefault("TTS_ENGINES", "piper")
os.environ["EMBEDDED_WORKER"] = "false"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from accounts.models import User  # noqa: E402
from productions.services import ProductionRequest, production_create  # noqa: E402
from synthesis.models import SynthesisJob, WorkerHeartbeat  # noqa: E402
from voices.services import builtin_voices_sync  # noqa: E402

SOURCE = ROOT / "bench" / "texts" / "gettysburg.txt"


def book(words: int) -> str:
    source = SOURCE.read_text(encoding="utf-8").split()
    out: list[str] = []
    chapter = 0
    count = 0
    while count < words:
        chapter += 1
        out.append(f"\n\n# Reading {chapter}\n\n")
        take = source[: words - count]
        out.append(" ".join(take))
        count += len(take)
    return "".join(out).strip() + ("" if out[-1].rstrip().endswith(".") else ".")


def run(workers: int, text: str, media: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "MEDIA_ROOT": str(media),
        "WORKER_SWEEP_SECONDS": "0.3",
        "EMBEDDED_WORKER": "false",
        "TTS_ENGINES": "piper",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "runengine", "--worker-id", f"bench-{workers}-{n}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(workers)
    ]
    try:
        deadline = time.monotonic() + 180
        while WorkerHeartbeat.objects.filter(worker_id__startswith=f"bench-{workers}-").count() < workers:
            if time.monotonic() > deadline:
                raise SystemExit("workers did not start")
            time.sleep(0.5)
        user, _ = User.objects.get_or_create(username=f"bench-{workers}", defaults={"monthly_character_quota": 10**8})
        start = time.perf_counter()
        production = production_create(
            user=user, req=ProductionRequest(text=text, voice="joe", title=f"Bench {workers}")
        )
        while True:
            production.refresh_from_db()
            if production.status in ("completed", "failed", "cancelled"):
                break
            time.sleep(1)
        wall = time.perf_counter() - start
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
    if production.status != "completed":
        raise SystemExit(f"production {production.status}: {production.error_message}")
    jobs = SynthesisJob.objects.filter(mode="segment", owner=user)
    per_worker = {
        w: jobs.filter(completed_by=w).count() for w in jobs.values_list("completed_by", flat=True).distinct()
    }
    return {
        "workers": workers,
        "words": production.word_count,
        "segments": production.segments_total,
        "chapters": production.chapters.count(),
        "wall_seconds": round(wall, 2),
        "audio_seconds": round(production.audio_duration or 0.0, 2),
        "audio_seconds_per_wall_second": round((production.audio_duration or 0.0) / wall, 3),
        "segments_per_worker": per_worker,
        "loudness_lufs": round((production.assembly or {}).get("loudness_lufs") or 0.0, 2) or None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=20000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "longform.json")
    args = parser.parse_args()
    if not settings.USING_POSTGRES or not settings.REDIS_URL:
        raise SystemExit("set DATABASE_URL=postgres://… and REDIS_URL=redis://… (separate workers need both)")
    call_command("migrate", verbosity=0)
    builtin_voices_sync()
    text = book(args.words)
    runs = []
    with tempfile.TemporaryDirectory(prefix="longform-bench-") as media:
        for workers in args.workers:
            result = run(workers, text, Path(media))
            runs.append(result)
            print(
                f"{workers} worker(s): {result['wall_seconds']:.1f} s wall, {result['audio_seconds']:.0f} s audio, "
                f"{result['audio_seconds_per_wall_second']:.2f} audio s per wall s, segments per worker "
                f"{result['segments_per_worker']}",
                flush=True,
            )
    base = runs[0]["audio_seconds_per_wall_second"]
    for result in runs:
        result["ratio_to_first"] = round(result["audio_seconds_per_wall_second"] / base, 3) if base else None
    if len(runs) > 1:
        print(
            f"ratio {runs[-1]['workers']} workers / {runs[0]['workers']}: {runs[-1]['ratio_to_first']:.2f} "
            f"(on {os.cpu_count()} cores: this shows scheduling, not speed, when the cores are already busy)"
        )
    report = {
        "benchmark": "longform",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "command": " ".join(["python", "bench/longform.py", *sys.argv[1:]]),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
