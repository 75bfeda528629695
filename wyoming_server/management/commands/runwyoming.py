"""`python manage.py runwyoming`: the Wyoming server for Home Assistant
(docs/home-assistant.md) on WYOMING_URI, speaking for the account of WYOMING_API_KEY.

Each request is a stream job: with the embedded default (EMBEDDED_WORKER) this process
runs the engine itself, in a thread per generation, as the web process does for its
streams; with separate `runengine` workers the job is claimed by one of them and its
audio relayed over the channel layer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlparse

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from wyoming.zeroconf import HomeAssistantZeroconf

from voices.services import builtin_voices_sync
from wyoming_server.protocol import WyomingRefusal
from wyoming_server.server import WyomingServer, is_loopback
from wyoming_server.services import wyoming_account

logger = logging.getLogger("speaker.wyoming")


class Command(BaseCommand):
    help = "Run the Wyoming protocol server (Home Assistant) for the account of WYOMING_API_KEY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--uri", default=None, help="where to listen (default: WYOMING_URI)")
        parser.add_argument(
            "--zeroconf",
            nargs="?",
            const="speaker",
            default=None,
            metavar="NAME",
            help="announce the server as _wyoming._tcp on the local network (name: speaker)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        uri = options["uri"] or settings.WYOMING_URI
        raw_key = settings.WYOMING_API_KEY
        try:
            api_key = wyoming_account(raw_key=raw_key)
        except WyomingRefusal as refusal:
            raise CommandError(refusal.text) from refusal
        try:
            server = WyomingServer(uri, raw_key=raw_key)
        except ValueError as exc:
            raise CommandError(f"WYOMING_URI {uri!r}: {exc}") from exc
        # What every server process does at start-up (docs/ARCHITECTURE.md "Built-in
        # voices"): this one may be the first to run with these engines.
        builtin_voices_sync()
        if not is_loopback(uri):
            logger.warning(
                "The Wyoming server listens on %s, beyond this machine. Wyoming has no authentication: anyone who "
                "reaches the port speaks as %s and is billed to that account. Keep it on a trusted network "
                "(docs/home-assistant.md).",
                uri,
                api_key.user.get_username(),
            )
        try:
            asyncio.run(self._serve(server, uri, options["zeroconf"]))
        except OSError as exc:  # the address is taken, or not this machine's
            raise CommandError(f"Cannot listen on {uri}: {exc}") from exc

    async def _serve(self, server: WyomingServer, uri: str, zeroconf_name: str | None) -> None:
        await sync_to_async(self._say)(f"Wyoming server starting on {uri}")
        if zeroconf_name:
            parsed = urlparse(uri)
            if parsed.scheme != "tcp" or parsed.port is None:
                raise CommandError("--zeroconf needs a tcp:// WYOMING_URI")
            host = parsed.hostname if parsed.hostname not in ("0.0.0.0", "::", "") else None
            discovery = HomeAssistantZeroconf(port=parsed.port, name=zeroconf_name, host=host)
            await discovery.register_server()
            await sync_to_async(self._say)(f"announced as {zeroconf_name}._wyoming._tcp")
        await server.run()

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
