"""Stages in threads joined by bounded channels, with one stop event.

Every blocking step waits in short slices and checks the stop event, so a failing stage
(or Ctrl-C in the main thread) stops all the others within a fraction of a second. The
first exception of any stage is re-raised in the caller's thread with the stage's name in
a note; no stage works after `Pipeline.run` returns (one whose start a Ctrl-C cut short
may run later, and then returns at once).
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
        KeyboardInterrupt. Never returns while a stage thread is alive: the caller may then
        close what the stages used."""
        threads = [threading.Thread(target=self._guard, args=(clock, work), name=f"vsr-{clock.name}", daemon=True) for clock, work in self._stages]
        interrupted: BaseException | None = None
        try:
            for thread in threads:
                thread.start()
            while any(t.is_alive() for t in threads):
                for thread in threads:
                    thread.join(tick_seconds / len(threads))
                on_tick()
        except BaseException as exc:  # Ctrl-C, or on_tick failing
            interrupted = exc
        if interrupted is not None or self._errors:
            self.stop.set()
        self._join_all(threads)
        if interrupted is not None:
            raise interrupted
        on_tick()
        if self._errors:
            raise self._errors[0]

    @staticmethod
    def _join_all(threads: list[threading.Thread]) -> None:
        """Wait for every started stage to return (each checks the stop event at least every
        POLL_SECONDS between work items); a further Ctrl-C does not cut this short, because
        the caller closes files the stages may still be using."""
        while any(t.is_alive() for t in threads):
            try:
                for thread in threads:
                    if thread.is_alive():
                        thread.join(POLL_SECONDS)
            except KeyboardInterrupt:
                continue

    def _guard(self, clock: StageClock, work: Callable[[StageClock], None]) -> None:
        clock.started = time.perf_counter()
        if self.stop.is_set():
            # A Ctrl-C cut Thread.start short: the thread was launched but was not yet alive
            # when run() joined the stages, so run() may have returned and its caller closed
            # the files this stage would use (a demux on a closed container is a SIGSEGV).
            # run() sets the stop event before it looks at is_alive(), and a thread is alive
            # before it gets here, so a stage that passes this check is always waited for.
            clock.finished = clock.started
            return
        try:
            work(clock)
        except Stopped:
            pass
        except BaseException as exc:
            exc.add_note(f"(in the vsr {clock.name} stage)")
            self._errors.append(exc)
            self.stop.set()
        finally:
            clock.finished = time.perf_counter()
