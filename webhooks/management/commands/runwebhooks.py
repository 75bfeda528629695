"""`python manage.py runwebhooks`: the webhook delivery loop on its own (the engine
worker runs the same loop beside its jobs; this is for hosts that want it apart)."""

from __future__ import annotations

import os
import signal
import socket
import threading
import uuid
from typing import Any

from django.core.management.base import BaseCommand

from webhooks.loop import WebhookDeliverer


class Command(BaseCommand):
    help = "Send webhook deliveries until SIGTERM or SIGINT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--worker-id", default="", help="lease owner name (default: host:pid:random)")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        deliverer = WebhookDeliverer(
            worker_id=options["worker_id"] or f"{socket.gethostname()}:{os.getpid()}:webhooks{uuid.uuid4().hex[:6]}"
        ).start()
        self.stdout.write(f"delivering webhooks as {deliverer.worker_id}")
        stop.wait()
        deliverer.stop(timeout=30)
