"""Engine benchmark (not a test): real-time factor and time to first chunk.

    python bench/engines.py [--out bench/results/engines.json] [--reps 3] [--xtts-reps 2]

Piper with the packaged voice "joe", and XTTS v2 on the tiny random checkpoint from
tests/tiny_xtts.py (mechanics only: its audio is noise and its speed says little
about the real model, whose GPT is ~30x larger; its HiFi-GAN decoder is full size).
Each engine is loaded through the production registry and warmed up once; then
every text is spoken `reps` times and the median is reported.

RTF = synthesis time / audio duration (below 1 is faster than real time).
First chunk = time from the request to the first audio chunk (what a streaming
client waits before it hears anything).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from speech.engines import (  # noqa: E402
    Engine,
    EngineConfig,
    EngineRegistry,
    SynthesisParams,
    VoiceRef,
)
from speech.text import count_words  # noqa: E402

SENTENCE = "The quick brown fox jumps over the lazy dog near the quiet river bank."
WORDS_60 = (
    "Every morning the small bakery on the corner opens its doors early. "
    "The smell of fresh bread drifts down the street and wakes the neighbours. "
    "Children stop on their way to school to press their noses against the window. "
    "The baker waves at them, wipes his hands on his apron, and hands out rolls "
    "to anyone who says good morning."
)
_PARAGRAPHS = [
    WORDS_60,
    "Far away in the mountains, a road climbs through pine forests toward an old observatory. "
    "Astronomers have watched the sky from there for more than a century. "
    "On clear nights they open the great dome and point the telescope at distant galaxies. "
    "Visitors who make the long drive are rewarded with views of planets, comets, and faint clusters of stars.",
    "The city library moved into a new building last spring, with tall windows and quiet reading rooms. "
    "Its shelves hold books in many languages, old maps, and newspapers going back two hundred years. "
    "Volunteers teach free evening classes on computers and writing. "
    "On weekends families gather for story time, and the children's corner is always full of laughter and noise.",
    "Learning to play an instrument takes patience, practice, and a little courage. "
    "At first the notes sound clumsy and the fingers refuse to move where they should. "
    "After a few weeks, simple melodies slowly begin to flow. "
    "Many musicians say the real reward is not the performance itself, but the calm focus they feel "
    "while they practise alone each day.",
    "The river that runs through the valley floods almost every spring when the snow melts. "
    "Farmers have learned to plant their crops on higher ground and to build their barns on stone. "
    "In late summer the water becomes calm and clear again. "
    "Fishermen return to the banks at dawn, and herons wade slowly through the shallow reeds looking for food.",
]
WORDS_300 = " ".join(_PARAGRAPHS)
TEXTS = {"1 sentence": SENTENCE, "60 words": WORDS_60, "300 words": WORDS_300}


@dataclass
class Run:
    engine: str
    text: str
    words: int
    rep: int
    audio_seconds: float
    first_chunk_seconds: float
    total_seconds: float
    chunks: int

    @property
    def rtf(self) -> float:
        return self.total_seconds / self.audio_seconds if self.audio_seconds else float("inf")


def measure(engine: Engine, text: str, voice: VoiceRef, params: SynthesisParams) -> tuple[float, float, float, int]:
    started = time.perf_counter()
    stream = engine.synthesize(text, language="en", voice=voice, params=params)
    first: float | None = None
    samples = 0
    chunks = 0
    for chunk in stream:
        if first is None:
            first = time.perf_counter() - started
        samples += chunk.size
        chunks += 1
    total = time.perf_counter() - started
    return samples / engine.sample_rate, first or total, total, chunks


def bench_engine(
    name: str, engine: Engine, voice: VoiceRef, params: SynthesisParams, reps: int, texts: dict[str, str]
) -> list[Run]:
    measure(engine, SENTENCE, voice, params)  # warm-up: first-run allocations and kernels
    runs = []
    for label, text in texts.items():
        for rep in range(reps):
            audio, first, total, chunks = measure(engine, text, voice, params)
            runs.append(Run(name, label, count_words(text), rep, audio, first, total, chunks))
            print(
                f"  {name:<10} {label:<10} rep {rep + 1}: {total:6.2f} s for {audio:6.1f} s of audio", file=sys.stderr
            )
    return runs


def summarise(runs: list[Run]) -> list[dict[str, Any]]:
    rows = []
    keys = dict.fromkeys((r.engine, r.text) for r in runs)
    for engine, text in keys:
        group = [r for r in runs if r.engine == engine and r.text == text]
        total = statistics.median(r.total_seconds for r in group)
        first = statistics.median(r.first_chunk_seconds for r in group)
        rows.append(
            {
                "engine": engine,
                "text": text,
                "words": group[0].words,
                "reps": len(group),
                "audio_seconds": round(statistics.median(r.audio_seconds for r in group), 3),
                "first_chunk_seconds": round(first, 4),
                "total_seconds": round(total, 4),
                "rtf": round(statistics.median(r.rtf for r in group), 4),
                # The best run: least disturbed by other work on a shared machine.
                "rtf_best": round(min(r.rtf for r in group), 4),
                "first_chunk_seconds_best": round(min(r.first_chunk_seconds for r in group), 4),
                "first_chunk_share": round(first / total, 4) if total else None,
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"| {'engine':<10} | {'text':<10} | {'words':>5} | {'audio s':>7} | {'first chunk s':>13} "
        f"| {'total s':>7} | {'RTF':>6} | {'RTF best':>8} | {'first/total':>11} |"
    )
    line = "|" + "|".join("-" * (len(cell)) for cell in head.split("|")[1:-1]) + "|"
    out = [head, line]
    for r in rows:
        out.append(
            f"| {r['engine']:<10} | {r['text']:<10} | {r['words']:>5} | {r['audio_seconds']:>7.2f} | "
            f"{r['first_chunk_seconds']:>13.3f} | {r['total_seconds']:>7.2f} | {r['rtf']:>6.3f} | "
            f"{r['rtf_best']:>8.3f} "
            f"| {r['first_chunk_share']:>11.3f} |"
        )
    return "\n".join(out)


def machine_info() -> dict[str, Any]:
    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "load_average_at_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "packages": {
            p: version(p) for p in ("piper-tts", "onnxruntime", "torch", "coqui-tts", "transformers", "numpy")
        },
    }
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["gpu"] = None
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "engines.json")
    parser.add_argument("--reps", type=int, default=5, help="repetitions per text for Piper")
    parser.add_argument("--xtts-reps", type=int, default=2, help="repetitions per text for the tiny XTTS")
    parser.add_argument("--skip-xtts", action="store_true")
    parser.add_argument("--xtts-threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)

    for label, text in TEXTS.items():
        expected = {"60 words": 60, "300 words": 300}.get(label)
        assert expected is None or count_words(text) == expected, (label, count_words(text))

    # Other work on the machine skews every number: record how busy it was.
    load_at_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    runs: list[Run] = []
    notes: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="speaker-bench-") as tmp:
        config = EngineConfig(enabled=["piper"])
        if not args.skip_xtts:
            from tests.tiny_xtts import build_tiny_xtts

            started = time.perf_counter()
            model_dir = build_tiny_xtts(Path(tmp) / "tiny-xtts")
            notes["tiny_xtts_build_seconds"] = round(time.perf_counter() - started, 3)
            config = EngineConfig(
                enabled=["piper", "xtts"], xtts_model_dir=model_dir, xtts_device="cpu", xtts_threads=args.xtts_threads
            )
        registry = EngineRegistry(config)

        piper = registry.get("piper")
        notes["piper_load_seconds"] = round(piper.load_seconds or 0.0, 3)
        runs += bench_engine("piper", piper, VoiceRef(builtin="joe"), SynthesisParams(), args.reps, TEXTS)

        if not args.skip_xtts:
            xtts = registry.get("xtts")
            notes["xtts_load_seconds"] = round(xtts.load_seconds or 0.0, 3)
            reference = Path(tmp) / "reference.wav"
            from speech.audio import encode

            reference.write_bytes(encode(piper.synthesize_all(WORDS_60, language="en"), piper.sample_rate, "wav"))
            started = time.perf_counter()
            voice = VoiceRef(conditioning=xtts.prepare_voice({"neutral": [reference]}))
            notes["xtts_prepare_voice_seconds"] = round(time.perf_counter() - started, 3)
            # Random weights never stop by themselves: every sentence runs to the
            # checkpoint's cap (gpt_max_audio_tokens), i.e. about 2 s of audio each.
            runs += bench_engine("tiny-xtts", xtts, voice, SynthesisParams(seed=1), args.xtts_reps, TEXTS)

    rows = summarise(runs)
    piper_rows = {r["text"]: r for r in rows if r["engine"] == "piper"}
    targets = {
        "piper_rtf_below_0.1": all(r["rtf"] < 0.1 for r in piper_rows.values()),
        "piper_60_words_first_chunk_below_quarter": piper_rows["60 words"]["first_chunk_share"] < 0.25,
    }
    print(f"machine: {os.cpu_count()} cores, load average at start {load_at_start}")
    print(table(rows))
    print("(medians over the repetitions; RTF best = the least disturbed run)")
    print()
    for name, ok in targets.items():
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    machine = machine_info()
    machine["load_average_at_start"] = load_at_start
    result = {
        "machine": machine,
        "command": " ".join(["python", "bench/engines.py", *(sys.argv[1:] if argv is None else argv)]),
        "notes": notes,
        "summary": rows,
        "targets": targets,
        "runs": [asdict(r) | {"rtf": round(r.rtf, 4)} for r in runs],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
