"""Stages in threads joined by bounded channels, with one stop event.

Every blocking step waits in short slices and checks the stop event, so a failing stage
(or Ctrl-C in the main thread) stops all the others within a fraction of a second. The
first exception of any stage is re-raised in the caller's thread with the stage's name in
a note. Ctrl-C is handled at safe points while the stages run, and no stage works after
`Pipeline.run` returns or raises.
"""

import queue
import signal
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


class CtrlCAtSafePoints:
    """Inside this block (in the main thread), SIGINT's handler runs at points of the
    owner's choosing instead of at any bytecode: a KeyboardInterrupt raised at any bytecode
    can land inside threading's own locks and joins and leave them wrong (see
    `Pipeline.run`). A SIGINT is remembered; `deliver()` hands it to the handler that was in
    place (Python's, which raises KeyboardInterrupt, or vsr's own). `call(function)` runs
    the owner's callback with that handler in charge as usual, since only it can end a
    callback blocked in a write. Elsewhere (another thread, SIGINT ignored or not handled
    by Python) the block changes nothing."""

    def __init__(self) -> None:
        self._handler: Callable | None = None
        self._pending = False
        self._in_call = False

    def __enter__(self) -> "CtrlCAtSafePoints":
        if threading.current_thread() is threading.main_thread() and callable(signal.getsignal(signal.SIGINT)):
            self._handler = signal.signal(signal.SIGINT, self._remember)  # from here on SIGINT is ours
        return self

    def __exit__(self, *exc_info) -> None:
        if self._handler is not None:
            signal.signal(signal.SIGINT, self._handler)

    def _remember(self, signum, frame) -> None:
        if not self._in_call:
            self._pending = True
            return
        self._in_call = False  # if the handler raises, the call is over
        self._handler(signum, frame)
        self._in_call = True

    def deliver(self) -> None:
        if self._pending:
            self._pending = False
            self._handler(signal.SIGINT, None)

    def call(self, function: Callable[[], None]) -> None:
        try:
            self.deliver()
            self._in_call = self._handler is not None
            function()
        finally:
            self._in_call = False


@dataclass
class Pipeline:
    capacity: int = 8
    stop: threading.Event = field(default_factory=threading.Event)
    clocks: list[StageClock] = field(default_factory=list)
    _stages: list[tuple[StageClock, Callable]] = field(default_factory=list)
    _errors: list[BaseException] = field(default_factory=list)
    _state: threading.Lock = field(default_factory=threading.Lock, init=False)  # guards _ended
    _ended: int = field(default=0, init=False)  # stage threads that have left _guard

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
        KeyboardInterrupt. Returns or raises only when no stage is working and every stage
        thread that began has ended: the caller may then close what the stages used.

        Ctrl-C is handled at this loop's safe points (`CtrlCAtSafePoints`), never inside
        Thread.start or Thread.join: a KeyboardInterrupt raised inside join makes
        is_alive() False for a thread that is still running (CPython gh-90882, 3.11 and
        3.12), and one inside start can leave a launched thread that is not alive yet.
        Either let the caller close a container that a stage was still demuxing: a
        SIGSEGV. A stage that finds the stop set does nothing (`_guard`), so one launched
        but not yet alive when run() joins can never touch the caller's files."""
        threads = [threading.Thread(target=self._guard, args=(clock, work), name=f"vsr-{clock.name}", daemon=True) for clock, work in self._stages]
        interrupted: BaseException | None = None
        with CtrlCAtSafePoints() as ctrl_c:
            try:
                for thread in threads:
                    thread.start()
                next_tick = time.perf_counter() + tick_seconds
                while self._ended < len(threads):
                    time.sleep(POLL_SECONDS / 10)
                    ctrl_c.deliver()
                    if time.perf_counter() >= next_tick:
                        ctrl_c.call(on_tick)
                        next_tick = time.perf_counter() + tick_seconds
            except BaseException as exc:  # Ctrl-C, a thread that cannot start, or on_tick failing
                interrupted = exc
            if interrupted is not None or self._errors:
                self.stop.set()  # from here on no stage begins its work
            self._join_alive(threads)
        if interrupted is not None:
            raise interrupted  # a Ctrl-C during this stop was spent on it
        if not self._errors:
            ctrl_c.deliver()  # one that came after the last safe point
        on_tick()
        if self._errors:
            raise self._errors[0]

    @staticmethod
    def _join_alive(threads: list[threading.Thread]) -> None:
        """Each stage checks the stop event at least every POLL_SECONDS between work items.
        A thread is alive before it reaches its check in `_guard`, so one that is not alive
        here (its start was cut short) finds the stop set when it runs, and does nothing."""
        for thread in threads:
            if thread.is_alive():
                thread.join()

    def _guard(self, clock: StageClock, work: Callable[[StageClock], None]) -> None:
        try:
            clock.started = time.perf_counter()
            if not self.stop.is_set():  # set: launched after the pipeline stopped (its start was cut short)
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
                self._ended += 1
