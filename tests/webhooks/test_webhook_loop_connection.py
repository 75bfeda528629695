"""The delivery loop's threads keep their database connection from one poll to the next
(core.db): an idle server used to reconnect four times every two seconds, most of its
CPU. A poll that fails on a broken connection drops it, and the next poll opens a new
one and sends what is due."""

from __future__ import annotations

import pytest
from django.db import connection

from core.events import send_user_event
from tests.loop_threads import in_a_loop_thread
from webhooks.loop import WebhookDeliverer
from webhooks.models import WebhookDelivery

# Transactional: the loop's thread has a connection of its own, which must see the
# test's rows.
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_delivery_thread_keeps_one_connection_over_many_polls(owner, receiver, subscribe):
    subscribe(owner, ["job.completed"])
    deliverer = WebhookDeliverer(worker_id="test-loop", threads=1)

    def five_polls_then_a_delivery() -> list[int]:
        sent = [deliverer.poll(0) for _ in range(5)]
        send_user_event(user_id=owner.pk, event="job.completed", payload={"status": "completed"})
        return [*sent, deliverer.poll(0)]

    sent, opened = in_a_loop_thread(five_polls_then_a_delivery)
    assert sent == [0, 0, 0, 0, 0, 1]
    assert opened == 1
    assert receiver.events() == ["job.completed"]


def test_a_poll_on_a_broken_connection_drops_it_and_the_next_poll_delivers(owner, receiver, subscribe, caplog):
    subscribe(owner, ["job.completed"])
    deliverer = WebhookDeliverer(worker_id="test-loop", threads=1)

    def break_the_connection_between_polls() -> list[int]:
        first = deliverer.poll(0)
        send_user_event(user_id=owner.pk, event="job.completed", payload={"status": "completed"})
        connection.connection.close()  # the server went away under the open connection
        return [first, deliverer.poll(0), deliverer.poll(0)]

    sent, opened = in_a_loop_thread(break_the_connection_between_polls)
    assert sent == [0, 0, 1]  # the failed poll sent nothing; the next one, on a new connection, did
    assert opened == 2
    assert "webhook loop test-loop:webhooks-0 failed; retrying" in caplog.text
    assert receiver.events() == ["job.completed"]
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.SUCCEEDED
