"""A hand-over that keeps only the newest item: the live policy.

A producer never waits: `put` replaces an item nobody has taken yet and counts it as
dropped, so a slow consumer makes the producer drop frames instead of queueing them, and
latency never grows. A consumer waits in short slices that watch the stop event."""

import threading
import time

from ..video.stages.pipeline import END, POLL_SECONDS, StageClock, Stopped


class LatestSlot:
    def __init__(self, stop: threading.Event):
        self._stop = stop
        self._ready = threading.Condition()
        self._item = None
        self._full = False
        self._closed = False
        self.dropped = 0

    def put(self, item) -> None:
        with self._ready:
            if self._full:
                self.dropped += 1
            self._item, self._full = item, True
            self._ready.notify_all()

    def close(self) -> None:
        """No more items: a consumer gets the last one (if untaken), then END."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def take(self):
        """The newest item if there is one not yet taken, END after close, else None."""
        with self._ready:
            return self._take_locked()

    def get(self, clock: StageClock | None = None):
        """Wait for the newest item (or END); raises Stopped when the session stops."""
        started = time.perf_counter()
        try:
            with self._ready:
                while True:
                    item = self._take_locked()
                    if item is not None:
                        return item
                    if self._stop.is_set():
                        raise Stopped
                    self._ready.wait(POLL_SECONDS)
        finally:
            if clock:
                clock.waiting += time.perf_counter() - started

    def _take_locked(self):
        if self._full:
            item, self._item, self._full = self._item, None, False
            return item
        return END if self._closed else None
