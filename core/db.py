"""Database connections of the threads that poll: the engine worker's sweep and the
webhook delivery loop (docs/ARCHITECTURE.md, "Database connections of the loops")."""

from __future__ import annotations

from django.db import connections


def loop_connections_check() -> None:
    """What a polling loop calls before each poll, in place of Django's
    `close_old_connections`: this thread's connections that are unusable (an error, then
    a failed check) or not in autocommit are closed; a healthy one is kept for the next
    poll, however old. `close_old_connections` also closes a connection older than
    CONN_MAX_AGE, which is 0 by default: a reconnect at every poll, each waking loop
    thread's own (about a millisecond of CPU on SQLite, a new server process on
    PostgreSQL), which was most of an idle server's CPU."""
    for conn in connections.all(initialized_only=True):
        conn.close_at = None  # no age limit; the check below still closes for an error or autocommit
        conn.close_if_unusable_or_obsolete()


def loop_connections_close() -> None:
    """After a poll failed (the database was away, say): this thread's connections are
    closed, so the next poll opens new ones rather than retrying a broken one (SQLite's
    `is_usable` is always true, so the check alone would keep it)."""
    connections.close_all()
