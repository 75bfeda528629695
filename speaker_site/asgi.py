"""ASGI entry point: HTTP, websockets (/ws/events/) and the engine worker channel."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "speaker_site.settings")
# Django must be set up before the routing imports models.
django_asgi_app = get_asgi_application()

from core import daphne_compat  # noqa: E402
from speaker_site.routing import build_application  # noqa: E402
from voices.services import builtin_voices_sync_at_startup  # noqa: E402

daphne_compat.apply()  # status lines and form bodies under daphne (see the module)

application = build_application(django_asgi_app)
# Once per web process, before it serves anything: requests only read the built-in
# voices, never sync them (docs/ARCHITECTURE.md, "Built-in voices").
builtin_voices_sync_at_startup()
