"""Stages in threads joined by bounded channels, with one stop event.

Every blocking step waits in short slices and checks the stop event, so a failing stage
(or Ctrl-C in the main thread) stops all the others within a fraction of a second. The
first exception of any stage is re-raised in the caller's thread with the stage's name in
a note. No stage works after `Pipeline.run` returns or raises, however many Ctrl-Cs land
once the stages have started.
"""

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

POLL_SECONDS = 0.05


class Stopped(Exception):
    """Raised inside a stage when the pipeline is stopping because of another stage."""


class _End:
    def __repr__(self) -> str:
        return "END"


END = _End()
"""Put by a stage into its outbox after its last item."""


@dataclass
class StageClock:
    """Wall time of a stage, how much of it went to waiting on its channels, and the time a
    device (a GPU) spent on work the stage queued. Only the stage's own thread writes it."""

    name: str
    started: float = 0.0
    finished: float = 0.0
    waiting: float = 0.0
    device_seconds: float = 0.0

    @property
    def busy_seconds(self) -> float:
        """The stage's thread working, or the device working for it, whichever is longer
        (a GPU computes one batch while the thread queues the next)."""
        own = (self.finished or time.perf_counter()) - self.started - self.waiting
        return max(0.0, own, self.device_seconds)


class Channel:
    """A bounded FIFO between two stages."""

    def __init__(self, capacity: int, stop: threading.Event):
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, capacity))
        self._stop = stop

    def put(self, item, clock: StageClock | None = None) -> None:
        self._wait(lambda: self._queue.put(item, timeout=POLL_SECONDS), clock)

    def get(self, clock: StageClock | None = None):
        return self._wait(lambda: self._queue.get(timeout=POLL_SECONDS), clock)

    def _wait(self, attempt: Callable, clock: StageClock | None):
        """Retry `attempt` (one short blocking try) until it succeeds or the pipeline stops;
        the time spent here counts as the stage's waiting time."""
        started = time.perf_counter()
        try:
            while True:
                if self._stop.is_set():
                    raise Stopped
                try:
                    return attempt()
                except (queue.Full, queue.Empty):
                    continue
        finally:
            if clock:
                clock.waiting += time.perf_counter() - started


@dataclass
class Pipeline:
    capacity: int = 8
    stop: threading.Event = field(default_factory=threading.Event)
    clocks: list[StageClock] = field(default_factory=list)
    _stages: list[tuple[StageClock, Callable]] = field(default_factory=list)
    _errors: list[BaseException] = field(default_factory=list)
    _state: threading.Lock = field(default_factory=threading.Lock, init=False)  # stop-or-begin, and the counts below
    _working: int = field(default=0, init=False)  # stages inside their work
    _ended: int = field(default=0, init=False)  # stage threads that have left _guard
    _all_ended: threading.Event = field(default_factory=threading.Event, init=False)

    def channel(self, capacity: int | None = None) -> Channel:
        return Channel(capacity or self.capacity, self.stop)

    def add(self, name: str, work: Callable[[StageClock], None]) -> None:
        """`work(clock)` runs in its own thread; it should use channels for every wait."""
        clock = StageClock(name)
        self.clocks.append(clock)
        self._stages.append((clock, work))

    def run(self, on_tick: Callable[[], None] = lambda: None, tick_seconds: float = POLL_SECONDS) -> None:
        """Run every stage to the end; `on_tick` is called in this thread about every
        `tick_seconds` (progress, a window's event loop). Raises the first stage error, or
        KeyboardInterrupt. Returns only when no stage is working and every stage thread
        that began has ended: the caller may then close what the stages used.

        The stages count themselves in and out of their work (`_guard`); threading's own
        view is not trusted for this. A Ctrl-C inside Thread.join makes is_alive() False
        for a thread that is still running (CPython gh-90882, 3.11 and 3.12), and one
        inside Thread.start can leave a launched thread that is not alive yet. Either let
        the caller close a container that a stage was still demuxing: a SIGSEGV."""
        threads = [threading.Thread(target=self._guard, args=(clock, work), name=f"vsr-{clock.name}", daemon=True) for clock, work in self._stages]
        interrupted: BaseException | None = None
        try:
            for thread in threads:
                thread.start()
            while self._ended < len(threads) and any(thread.is_alive() for thread in threads):
                self._all_ended.wait(tick_seconds)
                on_tick()
        except BaseException as exc:  # Ctrl-C, or on_tick failing
            interrupted = exc
        while True:  # a further Ctrl-C does not cut the shutdown short: it is remembered
            try:
                if interrupted is not None or self._errors:
                    with self._state:
                        self.stop.set()  # from here on no stage begins its work
                self._wait_until_no_stage_works()
                self._join_ended(threads)
                break
            except KeyboardInterrupt as again:
                interrupted = interrupted or again
        if interrupted is not None:
            raise interrupted
        on_tick()
        if self._errors:
            raise self._errors[0]

    def _wait_until_no_stage_works(self) -> None:
        """Each stage checks the stop event at least every POLL_SECONDS between work items.
        A Ctrl-C here is caught by run(), which waits again: the caller closes files the
        stages may still be using."""
        while self._working:
            time.sleep(POLL_SECONDS / 10)

    @staticmethod
    def _join_ended(threads: list[threading.Thread]) -> None:
        """The stage threads have left their work; let them end (a thread whose start a
        Ctrl-C cut short may run later, and does nothing). A Ctrl-C inside one of these
        joins can mark a thread ended in its last lines (gh-90882): such a thread has left
        its work and touches nothing the caller closes, so that is harmless."""
        for thread in threads:
            while thread.is_alive():
                thread.join(POLL_SECONDS)

    def _guard(self, clock: StageClock, work: Callable[[StageClock], None]) -> None:
        clock.started = time.perf_counter()
        with self._state:
            begins = not self.stop.is_set()  # launched after the pipeline stopped (a Ctrl-C in Thread.start): do nothing
            self._working += begins
        try:
            if begins:
                work(clock)
        except Stopped:
            pass
        except BaseException as exc:
            exc.add_note(f"(in the vsr {clock.name} stage)")
            self._errors.append(exc)
            self.stop.set()
        finally:
            clock.finished = time.perf_counter()
            with self._state:
                self._working -= begins
                self._ended += 1
                if self._ended == len(self._stages):
                    self._all_ended.set()
