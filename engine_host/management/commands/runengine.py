"""`python manage.py runengine`: one engine worker process.

Loads the engines once, claims jobs from the database, and hosts the Channels consumer
of the `engine` channel, which carries wake-ups only: stream requests are jobs in the
database like any other, and their audio goes back on each stream's own channel
(engine_host/relays.py). SIGTERM or SIGINT: the current job is released back to the
queue and the process exits cleanly. Run as many as you have GPUs/CPU budget; they
coordinate through the database."""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import Any

from channels.layers import get_channel_layer
from channels.routing import ChannelNameRouter
from channels.worker import Worker
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from core.wakeup import ENGINE_CHANNEL, worker_channel
from engine_host.hosting import EngineWorkerConsumer
from engine_host.worker import EngineWorker
from monitoring.metrics import serve_worker_metrics


class Command(BaseCommand):
    help = "Run an engine worker (claims synthesis jobs; hosts the engine channel consumer)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--worker-id", default=None, help="stable id for logs and heartbeats")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = EngineWorker(worker_id=options["worker_id"])
        EngineWorkerConsumer.worker = worker

        def _stop(signum: int, frame: Any) -> None:
            self.stderr.write(f"signal {signum}: stopping after releasing the current job")
            worker.stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        if settings.WORKER_METRICS_PORT:
            serve_worker_metrics(settings.WORKER_METRICS_PORT)
        thread = worker.start_thread()
        self.stdout.write(f"engine worker {worker.worker_id} running", ending="\n")
        self.stdout.flush()
        # The worker process serves only wake-ups: the shared engine channel, and its own
        # (least-loaded claiming wakes a particular worker); no HTTP or websocket routing.
        channels = [ENGINE_CHANNEL, worker_channel(worker.worker_id)]
        application = ChannelNameRouter({name: EngineWorkerConsumer.as_asgi() for name in channels})
        asyncio.run(self._host(application, channels, thread))
        thread.join()

    async def _host(self, application: Any, channels: list[str], thread: threading.Thread) -> None:
        layer = get_channel_layer()
        listener = None
        if layer is not None:
            server = Worker(application=application, channels=channels, channel_layer=layer)
            listener = asyncio.ensure_future(server.handle())
        while thread.is_alive():
            await asyncio.sleep(0.2)
        if listener is not None:
            listener.cancel()
