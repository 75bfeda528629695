"""The Redis channel layer's receive ends on the first cancel, whenever it arrives.

A consumer that closes cancels its pending `receive`; if the cancel is swallowed, the
consumer never finishes and keeps a Redis read going every 5 s (and pytest's event loop
never closes: the 300 s teardown hangs of the in-process websocket tests). Where the
cancel lands is stepped deterministically: after 0, 1, 2 … turns of the event loop, so it
falls on every await of the connection hand-shake, the cleanup script and the BZPOPMIN."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from core.channel_layer import SizedRedisChannelLayer

pytestmark = pytest.mark.redis


def _layer() -> SizedRedisChannelLayer:
    return SizedRedisChannelLayer(hosts=[{"address": settings.REDIS_URL, "max_connections": 10, "timeout": 5}])


async def test_a_cancelled_receive_ends_whichever_turn_of_the_loop_the_cancel_lands_on():
    swallowed = []
    for turns in range(40):
        layer = _layer()
        receive = asyncio.ensure_future(layer.receive(await layer.new_channel()))
        for _ in range(turns):
            await asyncio.sleep(0)
        receive.cancel()
        done, _ = await asyncio.wait({receive}, timeout=2)  # a BZPOPMIN takes 5 s: 2 s means it was not redone
        if not done:
            swallowed.append(turns)
            receive.cancel()
            await asyncio.wait({receive}, timeout=10)
        else:
            assert receive.cancelled()
        await layer.close_pools()
    assert swallowed == []


async def test_a_receive_still_gets_its_message():
    layer = _layer()
    channel = await layer.new_channel()
    receive = asyncio.ensure_future(layer.receive(channel))
    await layer.send(channel, {"type": "hello", "n": 1})
    assert await asyncio.wait_for(receive, 5) == {"type": "hello", "n": 1}
    await layer.close_pools()
