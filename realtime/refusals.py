"""Why a websocket is refused or closed: a close code, an error code and a message, sent
as an `error` message and then as the close frame's reason. Every websocket protocol
refuses this way (a bare HTTP 403 during the handshake tells a client nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CLOSE_BAD_MESSAGE = 4400  # a frame the endpoint cannot read (not JSON Speaker takes, or binary)
CLOSE_UNAUTHENTICATED = 4401  # no valid credential (none, bad, expired, logged out): sign in again
CLOSE_FORBIDDEN = 4403  # the credential exists but may not open or keep this socket
CLOSE_NOT_FOUND = 4404  # no websocket endpoint at this path


@dataclass(frozen=True)
class Refusal:
    close_code: int
    code: str
    message: str

    def error(self) -> dict[str, Any]:
        return {
            "type": "error",
            "error": {"code": self.code, "message": self.message, "details": {"close_code": self.close_code}},
        }

    @property
    def reason(self) -> str:
        """The close frame's reason: a close frame holds at most 123 bytes of it."""
        return self.message.encode()[:120].decode(errors="ignore")


NOT_AUTHENTICATED = Refusal(
    CLOSE_UNAUTHENTICATED,
    "not_authenticated",
    "Sign in to the dashboard, or send an API key in the Authorization: Bearer or X-API-Key header.",
)
KEY_IN_URL = Refusal(
    CLOSE_UNAUTHENTICATED,
    "not_authenticated",
    "API keys are not accepted in the URL (URLs end up in logs); send the key in the "
    "Authorization: Bearer or X-API-Key header.",
)
BAD_KEY = Refusal(
    CLOSE_UNAUTHENTICATED, "not_authenticated", "The API key is invalid, expired or revoked; use an active key."
)
FOREIGN_ORIGIN = Refusal(
    CLOSE_FORBIDDEN,
    "origin_not_allowed",
    "A signed-in socket must come from this site's own origin (scheme, host and port) or one "
    "of CSRF_TRUSTED_ORIGINS; other clients authenticate with an API key header.",
)
KEY_EXPIRED = Refusal(CLOSE_UNAUTHENTICATED, "key_expired", "The API key expired; connect again with an active key.")
KEY_REVOKED = Refusal(CLOSE_FORBIDDEN, "key_revoked", "The API key was revoked.")
SESSION_ENDED = Refusal(
    CLOSE_UNAUTHENTICATED, "session_ended", "The session ended (signed out or expired); sign in again."
)
USER_INACTIVE = Refusal(CLOSE_FORBIDDEN, "account_disabled", "This account is deactivated.")
NO_SUCH_ENDPOINT = Refusal(
    CLOSE_NOT_FOUND, "not_found", "No websocket endpoint at this path; the events socket is /ws/events/."
)


def bad_message(why: str) -> Refusal:
    """A frame the endpoint cannot read: what was wrong with it, then the socket closes."""
    return Refusal(CLOSE_BAD_MESSAGE, "invalid_message", f"The message could not be read: {why}")
