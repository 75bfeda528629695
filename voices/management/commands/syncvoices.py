"""`python manage.py syncvoices`: make the built-in voice rows match the engines this
server runs (after changing TTS_ENGINES, PIPER_VOICES_DIR or XTTS_MODEL_DIR, say). Web
processes and engine workers also sync when they start (voices.services.catalogue)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from voices.models import Voice
from voices.services import builtin_voices_sync


class Command(BaseCommand):
    help = "Sync the built-in voices with the engines' catalogue."

    def handle(self, *args: Any, **options: Any) -> None:
        builtin_voices_sync(force=True)
        builtins = Voice.objects.filter(is_builtin=True)
        ready = builtins.filter(status=Voice.Status.READY).count()
        waiting = builtins.exclude(status=Voice.Status.READY).count()
        self.stdout.write(f"{ready} built-in voices ready, {waiting} waiting for their engine.")
