"""Protocol routing: HTTP to Django (websockets and the engine channel join with the spine)."""

from __future__ import annotations

from typing import Any

from channels.routing import ProtocolTypeRouter


def build_application(http_app: Any) -> ProtocolTypeRouter:
    return ProtocolTypeRouter({"http": http_app})
