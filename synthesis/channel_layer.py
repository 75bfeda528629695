"""The Redis channel layer with a sized, blocking connection pool.

channels_redis builds a plain redis-py pool per event loop from the host's URL; redis-py's
asyncio pool then raises `MaxConnectionsError` the moment more operations are in flight
than it has connections (a hundred websockets connecting at once each run a `group_add`).
A `BlockingConnectionPool` instead makes the extra operations wait for a free connection
(up to `timeout` seconds), so a burst queues instead of failing. How to size it: README
"Scaling out" and the CHANNEL_LAYERS block of the settings.
"""

from __future__ import annotations

from typing import Any

from channels_redis.core import RedisChannelLayer
from redis import asyncio as aioredis


class SizedRedisChannelLayer(RedisChannelLayer):
    def create_pool(self, index: int) -> Any:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return aioredis.BlockingConnectionPool.from_url(address, **host)
