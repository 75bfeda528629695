"""Callers started at the same instant: the concurrency tests and bench/load.py send
simultaneous requests through `run_together` (no Django, no server: any callable)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

J = TypeVar("J")
R = TypeVar("R")


def run_together(jobs: Sequence[J], work: Callable[[J], R], timeout: float = 120.0) -> list[R]:
    """Start one thread per job at the same moment (a barrier); return their results in
    order. A job that raised raises here; one still running after `timeout` fails."""
    barrier = threading.Barrier(len(jobs))
    results: list[R | None] = [None] * len(jobs)
    errors: list[BaseException] = []

    def target(index: int, job: J) -> None:
        try:
            barrier.wait()
            results[index] = work(job)
        except BaseException as exc:  # surfaced below, with the thread's traceback
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a caller never finished"
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]  # every slot is filled once no job raised
