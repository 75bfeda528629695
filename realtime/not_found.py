"""Every websocket path that no endpoint serves: accepted and closed at once with 4404,
a reason and an `error` message, the way `/ws/events/` refuses (an exception in the
router would answer the handshake with an HTTP 500, and daphne can only reject a
handshake with a bare 403)."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from realtime.refusals import NO_SUCH_ENDPOINT


class NoSuchEndpointConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        await self.send_json(NO_SUCH_ENDPOINT.error())
        await self.close(code=NO_SUCH_ENDPOINT.close_code, reason=NO_SUCH_ENDPOINT.reason)
