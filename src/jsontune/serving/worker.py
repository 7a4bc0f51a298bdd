"""The model's one thread: it drives the decoding engine while the event loop only hands work over.

Requests reach the thread through an inbox; between two decoding steps it takes what arrived (new requests join
the running batch as soon as a slot is free, cancelled ones leave it), so the HTTP side never waits on the model
and the model never waits on a client. Each accepted request ends exactly once: its answer, or its error
(`on_error`), or its cancellation, after which nothing is said of it.

The server accepts at most `slots + max_queue` requests at a time; beyond that `submit` raises `QueueFull` at
once (the HTTP side answers 503), so a burst never grows an unbounded backlog. Should a step fail (a bug, or
memory), the requests in flight get the error and the engine starts a fresh batch: the server stays up. A
callback that fails is logged; only a batch that cannot be opened again stops the thread, which `/health` shows.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from jsontune.decoding.engine import Engine, Generation, Request

logger = logging.getLogger(__name__)


class QueueFull(Exception):
    """The server holds as many requests as it accepts; try again later."""


class WorkerStopped(Exception):
    """The model thread is not running (stopped, or failed beyond repair): nothing can be answered."""


@dataclass(eq=False)
class Ticket:
    """One accepted request, as the HTTP side knows it."""

    request: Request
    on_done: Callable[[Generation], None]
    on_error: Callable[[Exception], None]
    engine_ticket: int | None = field(default=None, repr=False)  # set by the model thread


class ModelWorker:
    """Runs `engine` in its own thread over one open batch of `slots` rows of `capacity` positions."""

    def __init__(self, engine: Engine, slots: int, capacity: int, max_queue: int):
        self.engine = engine
        engine.open(slots, capacity)
        self.slots = engine.slots  # fewer than asked when memory is short
        self.capacity = capacity
        self.max_queue = max_queue
        self.completed = 0
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._live: dict[int, Ticket] = {}  # engine ticket -> ticket, for the model thread only
        self._thread = threading.Thread(target=self._loop, name="jsontune-model", daemon=True)
        self._started = False

    @property
    def in_flight(self) -> int:
        """Requests accepted and not yet ended (running and waiting)."""
        return self._in_flight

    def start(self) -> None:
        self._started = True
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the step under way and end the thread; requests still held get no answer."""
        self._inbox.put(("stop", None))
        self._thread.join(timeout)

    def submit(self, request: Request, on_done: Callable[[Generation], None],
               on_error: Callable[[Exception], None]) -> Ticket:
        """Accept a request (callbacks run on the model thread); `QueueFull` when the server holds its maximum,
        `WorkerStopped` when the model thread is no longer running."""
        if self._started and not self.alive:
            raise WorkerStopped("the model thread has stopped")
        with self._lock:
            if self._in_flight >= self.slots + self.max_queue:
                raise QueueFull(f"{self._in_flight} requests are running or waiting")
            self._in_flight += 1
        ticket = Ticket(request, on_done, on_error)
        self._inbox.put(("submit", ticket))
        return ticket

    def cancel(self, ticket: Ticket) -> None:
        """Drop a request (a client that left): its slot is free for the next step."""
        self._inbox.put(("cancel", ticket))

    def _ended(self) -> None:
        with self._lock:
            self._in_flight -= 1

    @property
    def alive(self) -> bool:
        """Whether the model thread runs (False before start and after a stop or a fatal error)."""
        return self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            try:
                if not self._take(block=not self.engine.busy):
                    return
                self.engine.step()
            except Exception as err:  # the server outlives any one step, cancellation or callback
                logger.exception("the model thread failed; %d requests in flight get the error", len(self._live))
                self._fail_all(err)

    def _take(self, block: bool) -> bool:
        """Handle what arrived (waiting for something when idle); False once told to stop."""
        while True:
            try:
                kind, ticket = self._inbox.get(block=block)
            except queue.Empty:
                return True
            block = False
            if kind == "stop":
                return False
            if kind == "submit":
                self._admit(ticket)
            elif ticket.engine_ticket in self._live and self.engine.cancel(ticket.engine_ticket):
                del self._live[ticket.engine_ticket]
                self._ended()

    def _admit(self, ticket: Ticket) -> None:
        def done(attempts: list[Generation]) -> None:
            del self._live[ticket.engine_ticket]
            self._ended()
            self.completed += 1
            _tell(ticket.on_done, attempts[-1])

        try:
            ticket.engine_ticket = self.engine.submit(ticket.request, done)
        except ValueError as err:  # the HTTP side checked the request; this is a last guard
            self._ended()
            _tell(ticket.on_error, err)
            return
        self._live[ticket.engine_ticket] = ticket

    def _fail_all(self, err: Exception) -> None:
        failed = list(self._live.values())
        self._live.clear()
        for ticket in failed:
            self._ended()
            _tell(ticket.on_error, err)
        try:
            self.engine.open(self.slots, self.capacity)
        except Exception:
            logger.exception("the decoding engine cannot start a fresh batch; the model thread stops")
            raise


def _tell(callback: Callable, value) -> None:
    """Run a request's callback; one that fails (its event loop gone) is logged and does not stop the thread."""
    try:
        callback(value)
    except Exception:
        logger.exception("a request's callback failed")
