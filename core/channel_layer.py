"""The Redis channel layer with a sized, blocking connection pool.

channels_redis builds a plain redis-py pool per event loop from the host's URL; redis-py's
asyncio pool then raises `MaxConnectionsError` the moment more operations are in flight
than it has connections (a hundred websockets connecting at once each run a `group_add`).
A `BlockingConnectionPool` instead makes the extra operations wait for a free connection
(up to `timeout` seconds), so a burst queues instead of failing. How to size it:
docs/operations.md "Sizing the channel layer" and the CHANNEL_LAYERS block of the settings.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels_redis.core import RedisChannelLayer
from redis import asyncio as aioredis


class SizedRedisChannelLayer(RedisChannelLayer):
    def create_pool(self, index: int) -> Any:
        host = dict(self.hosts[index])
        address = host.pop("address")
        # redis-py 8 gives every read a 5 s socket timeout, the very time channels_redis
        # blocks in BZPOPMIN waiting for a message (`brpop_timeout`): on a busy loop the
        # empty answer arrives just after the client gave up, the read raises
        # `TimeoutError: Timeout reading from …` and the consumer dies with close 1011.
        # A read must be allowed to outlast the blocking command it waits on.
        host.setdefault("socket_timeout", self.brpop_timeout + 10)
        return aioredis.BlockingConnectionPool.from_url(address, **host)

    async def receive(self, channel: str) -> dict[str, Any]:
        """channels_redis' receive, ended for good by one cancel.

        With a socket timeout, redis-py sends every command under `asyncio.wait_for`, and
        Python 3.11's `wait_for` returns the result instead of raising when the cancel
        arrives just as the write has finished (CPython gh-86296, fixed in 3.12). The
        receive then goes on to its next BZPOPMIN as if it had never been cancelled: a
        consumer that is closing waits for it forever, a new Redis read every 5 s, and an
        event loop shutting down never ends. So the receive runs as a task of its own,
        and a cancel is repeated until that task has ended."""
        inner = asyncio.ensure_future(super().receive(channel))
        try:
            return await asyncio.shield(inner)
        except asyncio.CancelledError:
            while not inner.done():
                inner.cancel()
                try:
                    await asyncio.wait({inner}, timeout=0.1)
                except asyncio.CancelledError:
                    continue  # cancelled again: the inner receive must still end first
            if not inner.cancelled():
                inner.exception()  # retrieved: a late error is not "never retrieved" noise
            raise
