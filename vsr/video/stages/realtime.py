"""What a run does when frames arrive faster than the model takes them, and which
exceptions stop a stream run that still has an output to finish (RunEnding).

`--realtime block` (files, pipes, http(s)): the decoder waits for the model (back-pressure
through a bounded channel); nothing is dropped, and a pipe or TCP sender is slowed down.
`--realtime drop` (`vsr live`'s policy): the decoder never waits; when the model falls
behind, the oldest waiting frames are let go and counted, so memory and latency stay
bounded. `auto` (the default) is drop for a live input (vsr.video.io.endpoints) and block
for everything else. Copied audio/subtitle packets are never dropped for a slow model;
they wait in a bounded queue of their own (a far larger one: they are tiny).
"""

import threading
import time
from collections import deque
from dataclasses import dataclass

import av

from ..io.endpoints import REALTIME_POLICIES as POLICIES
from .ending import RunEnding
from .pipeline import POLL_SECONDS, Channel, Pipeline, StageClock, Stopped

PACKET_BACKLOG = 4096  # copied packets waiting beside the frames, at most


def channel_for(policy: str, live: bool, pipeline: Pipeline) -> "Channel | NewestFrames":
    if policy not in POLICIES:
        raise ValueError(f"realtime policy must be one of {POLICIES}, got {policy!r}")
    if policy == "drop" or (policy == "auto" and live):
        return NewestFrames(pipeline.capacity, pipeline.stop)
    channel = pipeline.channel()
    channel.dropped = 0
    return channel


class NewestFrames:
    """A channel whose `put` never blocks on frames: beyond `capacity` waiting frames the
    oldest waiting frame is dropped (counted in `dropped`). Items keep their order."""

    def __init__(self, capacity: int, stop: threading.Event):
        self.capacity = max(1, capacity)
        self._stop = stop
        self._items: deque = deque()
        self._frames = 0
        self._packets = 0
        self._ready = threading.Condition()
        self.dropped = 0

    def put(self, item, clock: StageClock | None = None) -> None:
        started = time.perf_counter()
        with self._ready:
            if self._stop.is_set():  # a producer that never waits must still hear the stop
                raise Stopped
            if isinstance(item, av.Packet):
                while self._packets >= PACKET_BACKLOG:  # the model is stuck: wait like a bounded channel
                    if self._stop.is_set():
                        raise Stopped
                    self._ready.wait(POLL_SECONDS)
                self._packets += 1
            elif _is_frame(item):
                if self._frames >= self.capacity:
                    self._drop_oldest_frame()
                self._frames += 1
            self._items.append(item)
            self._ready.notify_all()
        if clock:
            clock.waiting += time.perf_counter() - started

    def get(self, clock: StageClock | None = None):
        started = time.perf_counter()
        try:
            with self._ready:
                while not self._items:
                    if self._stop.is_set():
                        raise Stopped
                    self._ready.wait(POLL_SECONDS)
                item = self._items.popleft()
                if isinstance(item, av.Packet):
                    self._packets -= 1
                elif _is_frame(item):
                    self._frames -= 1
                self._ready.notify_all()
                return item
        finally:
            if clock:
                clock.waiting += time.perf_counter() - started

    def _drop_oldest_frame(self) -> None:
        for i, waiting in enumerate(self._items):
            if _is_frame(waiting):
                del self._items[i]
                self._frames -= 1
                self.dropped += 1
                return


def _is_frame(item) -> bool:
    return hasattr(item, "packed")  # a DecodedFrame (END and packets are not frames)


@dataclass(frozen=True)
class Stop:
    ending: RunEnding
    output_lost: bool = False  # the output can take no more (no trailer can be written)


def describe_stop(exc: BaseException) -> Stop | None:
    """A stream run that stopped for a reason that still leaves a finished output (Ctrl-C)
    or ends it quietly (the reader closed the pipe); None for a real error."""
    if isinstance(exc, KeyboardInterrupt):
        return Stop(RunEnding.INTERRUPTED)
    if isinstance(exc, BrokenPipeError) or isinstance(exc, av.BrokenPipeError):
        return Stop(RunEnding.READER_GONE, output_lost=True)
    if isinstance(exc, (ConnectionResetError, av.ConnectionResetError)):
        return Stop(RunEnding.OUTPUT_DROPPED, output_lost=True)
    return None
