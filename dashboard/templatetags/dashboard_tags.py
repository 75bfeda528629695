"""Template helpers for what a page may show to whom (docs/ARCHITECTURE.md, "Dashboard")."""

from __future__ import annotations

from typing import Any

from django import template

from dashboard.widgets import CLONING_OFF_FOR_USERS

register = template.Library()


@register.simple_tag
def voice_message(voice: Any, user: Any) -> str:
    """A voice's status message for this reader: a voice waiting for the cloning engine
    stores why the engine cannot run (settings, folders), which only staff should read."""
    if voice.status == "pending_engine" and not getattr(user, "is_staff", False):
        return CLONING_OFF_FOR_USERS
    return voice.status_message
