"""Who may use a loaded model next: segment-level, fair turns (docs/ARCHITECTURE.md,
"Fair scheduling").

A loaded model runs one generation step at a time (coqui-tts keeps the running prompt
on the model object), but it only has to be exclusive for one segment (a sentence):
a generation takes a *turn*, speaks one segment, and gives the turn back. The next
turn goes to the waiting generation of the highest class (`Priority`); within a class
first to one that has not spoken yet (its listener hears nothing until then), then to
the one whose listener runs out of audio first (`Ticket.due`: the audio it has made,
played from its first chunk on), so generations of a class take turns round-robin while
they play at the pace they are made, and one that is about to run dry goes before one
with seconds in hand. A lower class is never starved: a waiting generation passed over
`starvation_turns` times in a row gets the next turn whatever its class.

A turn is handed over directly to the chosen waiter (not released for anyone to grab),
so the generation that just gave its turn back cannot take it again ahead of those in
line. Turns are not tied to threads: a stream may be resumed from another thread than
the one that started it (thread pools), so this is not built on a Lock.
"""

from __future__ import annotations

import enum
import itertools
import threading
import time
from dataclasses import dataclass, field

__all__ = ["Priority", "Ticket", "TurnScheduler"]


class Priority(enum.IntEnum):
    """Scheduling classes, most urgent first (the same values as the platform's
    `SynthesisJob.Priority`)."""

    INTERACTIVE = 0  # someone is listening: streams, synchronous requests, previews
    JOB = 1  # queued jobs, fetched later
    BULK = 2  # long-form work


@dataclass(eq=False)
class Ticket:
    """One generation's place with the scheduler, kept for its whole life."""

    priority: Priority
    # Times this ticket was waiting while a turn went to someone else: reset when it
    # gets a turn; at `starvation_turns` it goes next whatever its class.
    passed_over: int = 0
    # Arrival order in the line (refreshed each time it queues again).
    order: int = 0
    turns: int = 0
    waited_seconds: float = 0.0  # in line, over all turns
    last_wait: float = 0.0  # in line for the latest turn
    joined_at: float = 0.0
    # When its listener runs out of audio (perf_counter), set by the engine as it queues
    # again after speaking; None: it wants the model when it joined the line.
    due: float | None = None
    owner_thread: int | None = field(default=None, repr=False)


class TurnScheduler:
    """Hands one model's turns to generations: `slots` at a time (1 for a model that
    keeps a generation's state on itself, such as XTTS; more for a stateless,
    thread-safe one, such as Piper's ONNX session, so that several cores work)."""

    def __init__(self, *, starvation_turns: int = 4, slots: int = 1) -> None:
        if starvation_turns < 1:
            raise ValueError("starvation_turns must be at least 1")
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.starvation_turns = starvation_turns
        self.slots = slots
        self._cond = threading.Condition(threading.Lock())
        self._holders: list[Ticket] = []
        self._waiting: list[Ticket] = []
        self._arrivals = itertools.count()

    def ticket(self, priority: Priority | int = Priority.INTERACTIVE) -> Ticket:
        return Ticket(priority=Priority(priority))

    @property
    def holder(self) -> Ticket | None:
        """The generation holding a turn (the first, with several slots), or None."""
        holders = self._holders
        return holders[0] if holders else None

    @property
    def holders(self) -> list[Ticket]:
        return list(self._holders)

    def holds(self, ticket: Ticket) -> bool:
        return ticket in self._holders

    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    def acquire(self, ticket: Ticket) -> float:
        """Join the line and wait for `ticket`'s turn; returns the seconds waited."""
        self.join(ticket)
        return self.wait(ticket)

    def join(self, ticket: Ticket) -> None:
        """Get in line without waiting (a generation that has something else to do
        first, such as handing out the silence between two segments)."""
        with self._cond:
            if ticket in self._holders or ticket in self._waiting:
                raise RuntimeError("this generation already holds or waits for a turn")
            self._enqueue(ticket)
            self._hand_over()

    def wait(self, ticket: Ticket) -> float:
        """Wait until `ticket` holds the turn (it must be in line); returns the seconds
        it spent in line for this turn."""
        with self._cond:
            try:
                while ticket not in self._holders:
                    if ticket not in self._waiting:
                        raise RuntimeError("this generation is not in line")
                    self._cond.wait()
            except BaseException:
                # Interrupted while waiting (KeyboardInterrupt): leave the line, and
                # pass on a turn that was handed over meanwhile.
                if ticket in self._holders:
                    self._holders.remove(ticket)
                    self._hand_over()
                elif ticket in self._waiting:
                    self._waiting.remove(ticket)
                raise
            ticket.owner_thread = threading.get_ident()
            return ticket.last_wait

    def release(self, ticket: Ticket) -> None:
        """Give `ticket`'s turn to the next in line (the generation is done)."""
        with self._cond:
            self._check_holder(ticket)
            ticket.owner_thread = None
            self._holders.remove(ticket)
            self._hand_over()

    def requeue(self, ticket: Ticket) -> None:
        """Give the turn back and get in line again, in one step (the generation has
        more segments): it competes for the next turn with those already waiting, by
        class, and goes behind those of its own class. `wait` for the turn next."""
        with self._cond:
            self._check_holder(ticket)
            ticket.owner_thread = None
            self._holders.remove(ticket)
            self._enqueue(ticket)
            self._hand_over()

    def leave(self, ticket: Ticket) -> None:
        """Step out of line, or give back a turn handed over but not yet used (a stream
        closed between two segments). Nothing to do for a ticket in neither place."""
        with self._cond:
            if ticket in self._holders:
                ticket.owner_thread = None
                self._holders.remove(ticket)
                self._hand_over()
            elif ticket in self._waiting:
                self._waiting.remove(ticket)

    def _check_holder(self, ticket: Ticket) -> None:
        if ticket not in self._holders:
            raise RuntimeError("this generation does not hold the turn")

    def _enqueue(self, ticket: Ticket) -> None:
        ticket.order = next(self._arrivals)
        ticket.joined_at = time.perf_counter()
        self._waiting.append(ticket)

    def _hand_over(self) -> None:
        """With the condition held: fill the free slots from the line, chosen by class,
        with the starved first."""
        handed = False
        while self._waiting and len(self._holders) < self.slots:
            self._holders.append(self._choose())
            handed = True
        if handed:
            self._cond.notify_all()

    @staticmethod
    def _urgency(ticket: Ticket) -> tuple[int, bool, float, int]:
        """The key `_choose` takes the least of when no one waiting is starved."""
        if ticket.turns == 0:  # not spoken yet: in order of arrival, before the others
            return (ticket.priority, False, 0.0, ticket.order)
        due = ticket.due if ticket.due is not None else ticket.joined_at
        return (ticket.priority, True, due, ticket.order)

    def _choose(self) -> Ticket:
        starved = [t for t in self._waiting if t.passed_over >= self.starvation_turns]
        if starved:
            chosen = min(starved, key=lambda t: (-t.passed_over, t.order))
        else:
            # Within a class, a generation that has not spoken yet goes first: its
            # listener hears nothing until it does, while the others have audio to play
            # (a segment is seconds of speech, a turn a fraction of that). Each one jumps
            # the line once. Then the one due first: round-robin while all play at the
            # pace they are made, and the one about to run dry before one with seconds
            # of audio in hand.
            chosen = min(self._waiting, key=self._urgency)
        self._waiting.remove(chosen)
        for other in self._waiting:
            # Only a less urgent class counts as passed over: a ticket of the chosen one's
            # class (or a more urgent one) is simply behind it in line.
            if other.priority > chosen.priority:
                other.passed_over += 1
        chosen.passed_over = 0
        chosen.turns += 1
        chosen.last_wait = time.perf_counter() - chosen.joined_at
        chosen.waited_seconds += chosen.last_wait
        return chosen
