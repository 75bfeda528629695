"""Two commits' Speaker side by side (not a test): the server CPU a second of speech
costs, the throughput and the latency under `bench/load.py`'s load, in paired rounds,
for a question smaller than what two `bench/load.py` runs of the same code differ by.

    python bench/compare.py REV [--rounds 8] [--clients 8] [--requests 2] [--out FILE]

A detached worktree of REV (its own code, this checkout's virtual environment; removed
at the end) and this checkout each run a server as `bench/load.py` does (daphne with the
embedded worker, SQLite, Piper, limits raised). Every round loads each server in turn
(the order alternating, so a drift of the machine's speed falls on both) with `clients`
threads × `requests` requests of the 60-word text to `/v1/audio/speech`, then to the
stream endpoint; each block's figures are its daphne process's user + system CPU over the
block / the audio seconds it made, the throughput (audio seconds / wall seconds, what
`bench/load.py` leads with) and the median latency to the whole audio. The other server
is idle meanwhile (a few ms of CPU a second, not counted). Reported per side and figure:
the mean, the standard deviation and the standard error of the blocks; and per figure
the ratio of the means (this checkout to REV) and the mean and standard error of the
rounds' own ratios (each round loads both servers minutes apart at most, so a drift of
the machine's speed over the run falls out of them).
Traffic goes to 127.0.0.1 only. docs/performance.md, "Under load: Speaker beside
piper's own server", says when it was needed and what it gave.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import UNLIMITED, run_load, speaker_speech_request, speaker_stream_request  # noqa: E402
from tests.live import LiveServer  # noqa: E402

KINDS = {"speech": speaker_speech_request, "streams": speaker_stream_request}
# The figures of a block compared (`run_load`'s names).
FIGURES = ("cpu_per_audio_second", "throughput", "latency_median")


def worktree_of(rev: str, folder: Path) -> Path:
    """A detached worktree of `rev` in `folder`, sharing this checkout's virtual environment."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), rev], check=True)
    (folder / ".venv").symlink_to(ROOT / ".venv")
    return folder


def summary(blocks: list[float]) -> dict[str, float]:
    deviation = statistics.stdev(blocks) if len(blocks) > 1 else 0.0
    return {
        "mean": round(statistics.mean(blocks), 5),
        "stdev": round(deviation, 5),
        "stderr": round(deviation / len(blocks) ** 0.5, 5),
        "blocks": len(blocks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev", help="the commit to compare this checkout with")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2, help="requests per client in each block")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="speaker-compare-"))
    tree = worktree_of(args.rev, workdir / "tree")
    sides = {args.rev: tree, "this checkout": ROOT}
    servers: dict[str, tuple[LiveServer, str]] = {}
    # side -> figure -> kind -> one value per round
    blocks: dict[str, dict[str, dict[str, list[float]]]] = {
        side: {figure: {kind: [] for kind in KINDS} for figure in FIGURES} for side in sides
    }
    try:
        for side, root in sides.items():
            server = LiveServer(workdir / f"server-{len(servers)}", extra_env=UNLIMITED, root=root).start()
            servers[side] = (server, server.create_key("bench"))
        names = list(servers)
        for round_ in range(args.rounds):
            for side in names if round_ % 2 == 0 else names[::-1]:
                server, key = servers[side]
                pid = server.processes[0].pid
                for kind, request in KINDS.items():
                    figures = run_load(
                        lambda: request(server.url, key),  # noqa: B023 (used within this iteration)
                        args.clients,
                        args.requests,
                        pid,
                    )
                    for figure in FIGURES:
                        blocks[side][figure][kind].append(figures[figure])
                shown = {f: [values[-1] for values in blocks[side][f].values()] for f in FIGURES}
                print(f"round {round_ + 1}/{args.rounds} {side}: {shown}", flush=True)
    finally:
        for server, _ in servers.values():
            server.stop()
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
        shutil.rmtree(workdir, ignore_errors=True)

    report: dict[str, Any] = {"rev": args.rev, "clients": args.clients, "requests_per_client": args.requests}
    for side in sides:
        report[side] = {
            figure: {
                **{kind: summary(values) for kind, values in by_kind.items()},
                "all": summary([value for values in by_kind.values() for value in values]),
            }
            for figure, by_kind in blocks[side].items()
        }
    report["this_checkout_to_rev"] = {}
    for figure in FIGURES:
        ours, theirs = blocks["this checkout"][figure], blocks[args.rev][figure]
        paired = [a / b for kind in KINDS for a, b in zip(ours[kind], theirs[kind], strict=True)]
        report["this_checkout_to_rev"][figure] = {
            "ratio_of_means": round(
                report["this checkout"][figure]["all"]["mean"] / report[args.rev][figure]["all"]["mean"], 4
            ),
            "paired_ratios": summary(paired),
        }
    print(json.dumps(report, indent=2))
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
