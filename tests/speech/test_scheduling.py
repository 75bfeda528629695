"""Turns on a loaded model (speech/engines/scheduling.py): who speaks the next segment.

Driven step by step without threads: `join` gets in line without waiting, and the turn
is handed over on `release`/`requeue`, so every order below is exact."""

from __future__ import annotations

import threading
import time

import pytest

from speech.engines.scheduling import Priority, TurnScheduler


def test_a_lone_generation_gets_the_turn_at_once() -> None:
    scheduler = TurnScheduler()
    ticket = scheduler.ticket(Priority.JOB)
    assert scheduler.acquire(ticket) >= 0.0
    assert scheduler.holder is ticket
    scheduler.release(ticket)
    assert scheduler.holder is None


def test_generations_of_one_class_take_turns_round_robin() -> None:
    scheduler = TurnScheduler()
    a, b, c = (scheduler.ticket(Priority.INTERACTIVE) for _ in range(3))
    for ticket in (a, b, c):
        scheduler.join(ticket)
    order = []
    for _ in range(6):
        holder = scheduler.holder
        order.append(holder)
        scheduler.requeue(holder)  # spoke one segment, has more
    assert order == [a, b, c, a, b, c]


def test_a_newcomer_speaks_its_first_segment_before_the_others_speak_again() -> None:
    scheduler = TurnScheduler()
    a, b = scheduler.ticket(Priority.INTERACTIVE), scheduler.ticket(Priority.INTERACTIVE)
    scheduler.join(a)
    scheduler.join(b)
    scheduler.requeue(a)  # a spoke, b is next
    scheduler.requeue(b)  # both have spoken: a's turn again...
    newcomer = scheduler.ticket(Priority.INTERACTIVE)
    scheduler.join(newcomer)
    scheduler.requeue(a)  # ...and after it the newcomer, ahead of b, which waited longer
    assert scheduler.holder is newcomer
    scheduler.requeue(newcomer)
    assert scheduler.holder is b  # then round-robin again


def test_of_those_that_have_spoken_the_one_about_to_run_dry_goes_first() -> None:
    scheduler = TurnScheduler()
    a, b, c = (scheduler.ticket(Priority.INTERACTIVE) for _ in range(3))
    for ticket in (a, b, c):
        scheduler.join(ticket)
    now = time.perf_counter()
    # Each speaks once; as it queues again its engine says when its listener runs dry.
    scheduler.requeue(a)  # no audio yet said: due as it queues
    b.due = now + 100.0  # seconds of audio in hand
    scheduler.requeue(b)
    c.due = now + 1.0
    scheduler.requeue(c)
    assert scheduler.holder is a  # due now, the earliest
    a.due = now + 50.0
    scheduler.requeue(a)  # the line, in arrival order: b, c, a
    order = []
    for _ in range(3):
        order.append(scheduler.holder)
        scheduler.release(scheduler.holder)
    assert order == [c, a, b]


def test_a_stream_goes_ahead_of_queued_jobs_between_their_segments() -> None:
    scheduler = TurnScheduler()
    job = scheduler.ticket(Priority.JOB)
    scheduler.join(job)
    assert scheduler.holder is job
    stream = scheduler.ticket(Priority.INTERACTIVE)
    scheduler.join(stream)
    scheduler.requeue(job)  # the job's segment ends: the stream, waiting later, goes first
    assert scheduler.holder is stream
    scheduler.requeue(stream)  # a lone stream and a job: the stream keeps its class's lead
    assert scheduler.holder is stream


def test_a_queued_job_still_advances_while_streams_keep_arriving() -> None:
    scheduler = TurnScheduler(starvation_turns=3)
    job = scheduler.ticket(Priority.JOB)
    bulk = scheduler.ticket(Priority.BULK)
    first = scheduler.ticket(Priority.INTERACTIVE)
    scheduler.join(first)
    scheduler.join(job)
    scheduler.join(bulk)
    holders = []
    holder = first
    for _ in range(12):
        # A new stream arrives before every hand-over; a stream that spoke is done, the
        # long job and bulk work always have more segments.
        scheduler.join(scheduler.ticket(Priority.INTERACTIVE))
        if holder.priority == Priority.INTERACTIVE:
            scheduler.release(holder)
        else:
            scheduler.requeue(holder)
        holder = scheduler.holder
        holders.append(holder.priority)
    assert holders.count(Priority.JOB) >= 2 and holders.count(Priority.BULK) >= 2
    # Never more than `starvation_turns` streams in a row while the others wait.
    run = 0
    for priority in holders:
        run = run + 1 if priority == Priority.INTERACTIVE else 0
        assert run <= 3


def test_closing_a_stream_in_line_gives_up_its_place() -> None:
    scheduler = TurnScheduler()
    a, b, c = (scheduler.ticket(Priority.JOB) for _ in range(3))
    for ticket in (a, b, c):
        scheduler.join(ticket)
    scheduler.leave(b)
    scheduler.release(a)
    assert scheduler.holder is c


def test_a_turn_handed_to_a_closed_stream_passes_on() -> None:
    scheduler = TurnScheduler()
    a, b = scheduler.ticket(Priority.JOB), scheduler.ticket(Priority.JOB)
    scheduler.join(a)
    scheduler.join(b)
    scheduler.requeue(a)
    assert scheduler.holder is b
    scheduler.leave(b)  # closed before it used the turn
    assert scheduler.holder is a


def test_a_waiting_thread_wakes_when_its_turn_is_handed_over() -> None:
    scheduler = TurnScheduler()
    first, second = scheduler.ticket(), scheduler.ticket()
    scheduler.acquire(first)
    scheduler.join(second)
    got_turn = threading.Event()

    def wait_for_turn() -> None:
        scheduler.wait(second)
        got_turn.set()

    thread = threading.Thread(target=wait_for_turn)
    thread.start()
    assert not got_turn.is_set()
    scheduler.release(first)
    thread.join(10)
    assert got_turn.is_set() and scheduler.holder is second
    assert second.waited_seconds >= 0.0 and second.turns == 1


def test_giving_back_a_turn_one_does_not_hold_is_a_bug_said_at_once() -> None:
    scheduler = TurnScheduler()
    ticket = scheduler.ticket()
    with pytest.raises(RuntimeError, match="does not hold"):
        scheduler.release(ticket)
    scheduler.join(ticket)
    with pytest.raises(RuntimeError, match="already"):
        scheduler.join(ticket)


def test_a_thread_safe_model_runs_as_many_turns_at_once_as_it_has_slots() -> None:
    scheduler = TurnScheduler(slots=2)
    a, b, c = (scheduler.ticket(Priority.INTERACTIVE) for _ in range(3))
    for ticket in (a, b, c):
        scheduler.join(ticket)
    assert scheduler.holders == [a, b]  # two at once, the third in line
    scheduler.requeue(a)
    assert scheduler.holders == [b, c]  # the freed slot went to the one waiting
    scheduler.release(b)
    scheduler.release(c)
    assert scheduler.holders == [a]
