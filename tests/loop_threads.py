"""Running a test's steps in a thread of its own, as Speaker's polling loops run (the
engine worker's sweep, the webhook delivery loop), counting the database connections that
thread opens (core.db)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.backends.signals import connection_created


def in_a_loop_thread(steps: Callable[[], Any]) -> tuple[Any, int]:
    """Run `steps` in a thread of its own, as the loop runs: what it returns, and how many
    database connections that thread opened."""
    opened: list[int] = []
    outcome: dict[str, Any] = {}

    def count(sender: Any, connection: Any, **kwargs: Any) -> None:
        if threading.get_ident() == thread.ident:
            opened.append(1)

    def run() -> None:
        try:
            outcome["value"] = steps()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    connection_created.connect(count, weak=False)
    try:
        thread.start()
        thread.join(60)
    finally:
        connection_created.disconnect(count)
    return outcome.get("value"), len(opened)
