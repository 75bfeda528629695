"""The delivery loop: WEBHOOK_CONCURRENCY threads that send due deliveries
(webhooks.delivery) and otherwise wait WEBHOOK_POLL_SECONDS or until this process queues
one. The engine worker runs one beside its claim loop (engine_host.worker), so
deployments need no new process and no broker; `manage.py runwebhooks` runs one alone."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import connection

from core.db import loop_connections_check, loop_connections_close
from webhooks.delivery import deliveries_prune, deliveries_run_due
from webhooks.outbox import local_wakeup

logger = logging.getLogger("speaker.webhooks")
PRUNE_EVERY_SECONDS = 3600.0


class WebhookDeliverer:
    def __init__(self, *, worker_id: str, threads: int | None = None) -> None:
        self.worker_id = worker_id
        self.threads = threads or settings.WEBHOOK_CONCURRENCY
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pruned_at = 0.0

    def start(self) -> WebhookDeliverer:
        for n in range(self.threads):
            thread = threading.Thread(target=self._run, args=(n,), name=f"webhooks-{self.worker_id}-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the attempts in flight (each bounded by WEBHOOK_TIMEOUT_SECONDS)."""
        self._stop.set()
        local_wakeup.set()
        for thread in self._threads:
            thread.join(timeout)

    def _run(self, n: int) -> None:
        try:
            while not self._stop.is_set():
                if not self.poll(n):
                    local_wakeup.wait(settings.WEBHOOK_POLL_SECONDS)
                    local_wakeup.clear()
        finally:
            connection.close()

    def poll(self, n: int) -> int:
        """Thread `n`'s one look for due deliveries, sending them: how many it sent. The
        thread's database connection is kept between polls (core.db)."""
        lease_owner = f"{self.worker_id}:webhooks-{n}"
        try:
            loop_connections_check()
            if n == 0 and time.monotonic() - self._pruned_at > PRUNE_EVERY_SECONDS:
                self._pruned_at = time.monotonic()
                deliveries_prune()
            return deliveries_run_due(worker_id=lease_owner, limit=20)
        except Exception:  # the database was away, say: the loop must outlive it
            logger.exception("webhook loop %s failed; retrying", lease_owner)
            loop_connections_close()
            return 0
