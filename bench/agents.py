"""Voice-agent benchmark (not a test): an LLM-like producer streams its reply into
Speaker's ElevenLabs multi-stream-input websocket, beside the best a REST client can do.

    python bench/agents.py [--sessions 1,8] [--replies 4] [--pause 0] [--text …] [--out bench/results/agents.json]

Speaker runs as `make run` does (daphne, the embedded worker, SQLite, Piper's joe) with
the rate limit and quotas raised so that they do not shape the load (bench/load.py's
settings). Traffic to 127.0.0.1 only.

Each agent session is one socket on `/v1/text-to-speech/joe/multi-stream-input`
(`output_format=pcm_22050`, joe's own rate, so nothing is resampled), as pipecat's and
LiveKit's ElevenLabs services use it: one context per reply. A reply is bench/engines.py's
60-word, 4-sentence text, sent in 4-character tokens at 30 tokens/s (about 2.8 s), then
`flush` and `close_context`; the session reads the audio until that context's `isFinal`.
The next reply starts when the previous one would have finished playing (plus `--pause`),
as an agent speaks, then listens. The sessions of a run start together.

- first-clause latency: from sending the token that completes the first sentence to the
  first audio byte of that reply;
- underrun: from the first audio on, audio played at real time; every wait for audio
  that has not arrived yet while the playback clock runs dry adds to it (0 = the listener
  never hears a gap).

The REST client, in the same sessions and with the same token pacing, must wait for the
whole reply, then `POST /api/v1/synthesis/stream` (raw PCM): its "first audio after the
last token" is what it adds to the reply's end; its first-clause latency (from the same
token as above) is given too, for the comparison. Each of the two is measured alone on
the server, for 1 and for N concurrent sessions (`--sessions`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import websockets

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.engines import WORDS_60  # noqa: E402
from bench.load import UNLIMITED, percentile  # noqa: E402
from tests.live import LiveServer  # noqa: E402

VOICE = "joe"
SAMPLE_RATE = 22050  # joe-medium's rate; pcm_22050 is s16le mono at it
OUTPUT_FORMAT = f"pcm_{SAMPLE_RATE}"
TOKEN_CHARS = 4
TOKENS_PER_SECOND = 30.0
SENTENCE_ENDS = ".!?"


def tokens(text: str, size: int = TOKEN_CHARS) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def first_sentence_token(pieces: list[str]) -> int:
    """The index of the token that completes the first sentence (holds its end mark)."""
    return next(i for i, piece in enumerate(pieces) if any(mark in piece for mark in SENTENCE_ENDS))


class Playback:
    """Audio played at real time from its first arrival: how long the listener waits for
    audio that has not come yet (the underrun)."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.first: float | None = None
        self.ends = 0.0  # on the perf_counter clock: when the audio received so far stops playing
        self.underrun = 0.0
        self.stalls = 0
        self.audio = 0.0

    def arrive(self, at: float, pcm_bytes: int) -> None:
        seconds = pcm_bytes / 2 / self.sample_rate
        if seconds <= 0:
            return
        self.audio += seconds
        if self.first is None:
            self.first, self.ends = at, at + seconds
            return
        if at > self.ends:
            self.underrun += at - self.ends
            self.stalls += 1
            self.ends = at
        self.ends += seconds


async def sleep_until(when: float) -> None:
    delay = when - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


# ------------------------------------------------------------------- agent sessions


async def read_reply(socket: Any, context: str, playback: Playback) -> None:
    async for raw in socket:
        at = time.perf_counter()
        message = json.loads(raw)
        if "error" in message:
            raise RuntimeError(f"the server refused the session: {message}")
        if message.get("contextId") != context:
            continue
        if message.get("audio"):
            playback.arrive(at, len(base64.b64decode(message["audio"])))
        if message.get("isFinal"):
            return
    raise RuntimeError(f"the socket closed before context {context}'s isFinal ({socket.close_code})")


async def agent_reply(socket: Any, context: str, text: str) -> dict[str, Any]:
    pieces = tokens(text)
    trigger = first_sentence_token(pieces)
    playback = Playback(SAMPLE_RATE)
    reader = asyncio.create_task(read_reply(socket, context, playback))
    try:
        await socket.send(json.dumps({"text": " ", "context_id": context}))
        start = time.perf_counter()
        trigger_sent = last_sent = start
        for n, piece in enumerate(pieces):
            await sleep_until(start + n / TOKENS_PER_SECOND)
            await socket.send(json.dumps({"text": piece, "context_id": context, "try_trigger_generation": True}))
            last_sent = time.perf_counter()
            if n == trigger:
                trigger_sent = last_sent
        await socket.send(json.dumps({"context_id": context, "flush": True}))
        await socket.send(json.dumps({"context_id": context, "close_context": True}))
        await reader
    finally:
        reader.cancel()
    assert playback.first is not None, f"context {context} got no audio"
    return {
        "first_clause": playback.first - trigger_sent,
        "first_after_last_token": playback.first - last_sent,
        "underrun": playback.underrun,
        "stalls": playback.stalls,
        "audio": playback.audio,
        "plays_until": playback.ends,
    }


async def agent_session(ws_url: str, key: str, replies: int, pause: float, text: str) -> list[dict[str, Any]]:
    results = []
    url = f"{ws_url}/v1/text-to-speech/{VOICE}/multi-stream-input?output_format={OUTPUT_FORMAT}&model_id=bench"
    async with websockets.connect(url, additional_headers={"xi-api-key": key}, max_size=None) as socket:
        for n in range(replies):
            result = await agent_reply(socket, f"reply-{n}", text)
            results.append(result)
            await sleep_until(result.pop("plays_until") + pause)  # the agent speaks, then listens
        await socket.send(json.dumps({"close_socket": True}))
    return results


# -------------------------------------------------------------------- REST sessions


def rest_stream(url: str, key: str, text: str) -> Playback:
    response = requests.post(
        f"{url}/api/v1/synthesis/stream",
        json={"text": text, "voice": VOICE, "format": "pcm"},
        headers={"Authorization": f"Bearer {key}"},
        stream=True,
        timeout=600,
    )
    response.raise_for_status()
    playback = Playback(int(response.headers.get("X-Sample-Rate", SAMPLE_RATE)))
    for chunk in response.iter_content(chunk_size=None):
        playback.arrive(time.perf_counter(), len(chunk))
    return playback


async def rest_session(
    url: str, key: str, replies: int, pause: float, text: str, pool: ThreadPoolExecutor
) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    pieces = tokens(text)
    trigger = first_sentence_token(pieces)
    results = []
    for _ in range(replies):
        start = time.perf_counter()
        # The same producer; the client holds the tokens until the reply is complete.
        await sleep_until(start + (len(pieces) - 1) / TOKENS_PER_SECOND)
        last_token = time.perf_counter()
        trigger_sent = start + trigger / TOKENS_PER_SECOND
        playback = await loop.run_in_executor(pool, rest_stream, url, key, text)
        assert playback.first is not None, "the stream had no audio"
        results.append(
            {
                "first_clause": playback.first - trigger_sent,
                "first_after_last_token": playback.first - last_token,
                "underrun": playback.underrun,
                "stalls": playback.stalls,
                "audio": playback.audio,
            }
        )
        await sleep_until(playback.ends + pause)
    return results


# --------------------------------------------------------------------------- runs


def summarize(sessions: list[list[dict[str, Any]]], wall: float) -> dict[str, Any]:
    replies = [reply for session in sessions for reply in session]

    def figures(name: str) -> dict[str, float]:
        values = [r[name] for r in replies]
        return {
            "median": round(statistics.median(values), 3),
            "p95": round(percentile(values, 0.95), 3),
            "max": round(max(values), 3),
        }

    per_session_underrun = [sum(r["underrun"] for r in session) for session in sessions]
    return {
        "sessions": len(sessions),
        "replies": len(replies),
        "wall_seconds": round(wall, 3),
        "audio_seconds": round(sum(r["audio"] for r in replies), 3),
        "first_clause_latency": figures("first_clause"),
        "first_audio_after_last_token": figures("first_after_last_token"),
        "underrun_per_reply": figures("underrun"),
        "underrun_per_session": {
            "median": round(statistics.median(per_session_underrun), 3),
            "p95": round(percentile(per_session_underrun, 0.95), 3),
            "max": round(max(per_session_underrun), 3),
        },
        "stalls": sum(r["stalls"] for r in replies),
        "raw": [
            [{k: round(v, 4) if isinstance(v, float) else v for k, v in reply.items()} for reply in session]
            for session in sessions
        ],
    }


async def run_agents(server_url: str, key: str, sessions: int, replies: int, pause: float, text: str) -> dict:
    ws_url = server_url.replace("http://", "ws://")
    started = time.perf_counter()
    results = await asyncio.gather(*(agent_session(ws_url, key, replies, pause, text) for _ in range(sessions)))
    return summarize(list(results), time.perf_counter() - started)


async def run_rest(server_url: str, key: str, sessions: int, replies: int, pause: float, text: str) -> dict:
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(rest_session(server_url, key, replies, pause, text, pool) for _ in range(sessions))
        )
        return summarize(list(results), time.perf_counter() - started)


def warm_up(server_url: str, key: str) -> None:
    """Models loaded, code paths run once: a short reply on each route."""
    short = "Warming up. Almost there."
    asyncio.run(agent_session(server_url.replace("http://", "ws://"), key, 1, 0.0, short))
    rest_stream(server_url, key, short)


def print_table(report: dict[str, Any]) -> None:
    print()
    print(
        f"{'':12} {'sessions':>8} {'replies':>7} {'first clause med/p95 s':>24} "
        f"{'after last token med/p95 s':>27} {'underrun/session med/p95 s':>27}"
    )
    for run in report["runs"]:
        for mode in ("agents", "rest"):
            r = run[mode]
            fc, al, ur = r["first_clause_latency"], r["first_audio_after_last_token"], r["underrun_per_session"]
            print(
                f"{mode:12} {r['sessions']:>8} {r['replies']:>7} {fc['median']:>11} / {fc['p95']:<10} "
                f"{al['median']:>13} / {al['p95']:<11} {ur['median']:>13} / {ur['p95']:<11}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="1,8", help="concurrent sessions per run, comma-separated")
    parser.add_argument("--replies", type=int, default=4, help="replies per session")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds an agent listens between replies")
    parser.add_argument("--text", default=WORDS_60, help="the reply (default: the 60-word, 4-sentence text)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "agents.json")
    args = parser.parse_args()
    counts = [int(n) for n in args.sessions.split(",") if n.strip()]
    if not any(mark in args.text for mark in SENTENCE_ENDS):
        parser.error("--text needs at least one sentence end (. ! ?)")
    pieces = tokens(args.text)

    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": len(os.sched_getaffinity(0)),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            # Absolute latencies depend on what else runs: the 1-, 5- and 15-minute load
            # averages when the run starts and ends say how quiet the machine was.
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "command": shlex.join(["python", "bench/agents.py", *sys.argv[1:]]),
        "voice": VOICE,
        "output_format": OUTPUT_FORMAT,
        "text_words": len(args.text.split()),
        "text_sentences": sum(args.text.count(mark) for mark in SENTENCE_ENDS),
        "tokens": len(pieces),
        "token_chars": TOKEN_CHARS,
        "tokens_per_second": TOKENS_PER_SECOND,
        "replies_per_session": args.replies,
        "pause_seconds": args.pause,
        "runs": [],
    }
    workdir = Path(tempfile.mkdtemp(prefix="speaker-agents-"))
    server = LiveServer(workdir / "speaker", extra_env=UNLIMITED).start()
    try:
        key = server.create_key("bench-agents")
        warm_up(server.url, key)
        for count in counts:
            print(f"{count} agent session(s) x {args.replies} replies over multi-stream-input ...", flush=True)
            agents = asyncio.run(run_agents(server.url, key, count, args.replies, args.pause, args.text))
            print(f"{count} REST session(s) x {args.replies} replies (whole reply, then a stream) ...", flush=True)
            rest = asyncio.run(run_rest(server.url, key, count, args.replies, args.pause, args.text))
            report["runs"].append({"sessions": count, "agents": agents, "rest": rest})
    finally:
        server.stop()
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]

    print_table(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
