"""Presentation timestamps for decoded frames, including from files that lack them.

Decoders return frames in presentation order, but the pts they carry can be wrong: an AVI
with packed B-frames has no presentation times at all, so each frame gets the time of a
neighbouring packet (1, 2, 3, 5, 4, 6, 8, 7, ...). Like FFmpeg's best-effort timestamp we
count how often pts and dts go backwards and trust the one that fails less; unlike it, we
decide each frame only after seeing a few more (`LOOKAHEAD`), so the first fault is not
already written out.

A frame whose time is missing or does not move forward is repaired from its neighbours:
placed half-way between the frame before it and the next frame with a good time (a run
of k such frames is spread evenly over that gap) when the gap has room, else one tick
after the frame before it. With no later good time (the end of the input) a missing time
is one frame duration after the frame before it. Frames are never dropped or reordered,
and one bad time does not shift the frames after it. `Repairs` counts each kind for the
warning.
"""

from collections import deque
from dataclasses import dataclass

import av

LOOKAHEAD = 8


@dataclass
class Repairs:
    at_start: int = 0  # the first frame had no time: time 0
    between: int = 0  # placed half-way between (spread evenly over) their neighbours' times
    one_tick: int = 0  # no room between the neighbours: one tick after the frame before
    one_frame: int = 0  # no later time to go by: one frame duration after the frame before

    @property
    def total(self) -> int:
        return self.at_start + self.between + self.one_tick + self.one_frame

    def note(self) -> str | None:
        """The warning: what was done, to how many frames."""
        if not self.total:
            return None
        done = [
            f"{count} {what}"
            for count, what in (
                (self.at_start, "(the first) placed at time 0"),
                (self.between, "placed half-way between the frames around them"),
                (self.one_tick, "placed one tick after the frame before (no room between)"),
                (self.one_frame, "placed one frame duration after the frame before (none after to go by)"),
            )
            if count
        ]
        return f"{self.total} frame(s) had a missing or backwards timestamp (common in AVI files): " + ", ".join(done)


class FrameTimer:
    def __init__(self, default_duration: int | None):
        self.default_duration = default_duration
        self.faulty_pts = self.faulty_dts = 0
        self.repairs = Repairs()
        self._seen_pts: int | None = None
        self._seen_dts: int | None = None
        self._last: int | None = None
        self._window: deque[av.VideoFrame] = deque()

    def push(self, frame: av.VideoFrame) -> list[tuple[av.VideoFrame, int]]:
        """Take a decoded frame; return the frames now timed, oldest first."""
        if frame.pts is not None:
            self.faulty_pts += self._seen_pts is not None and frame.pts <= self._seen_pts
            self._seen_pts = frame.pts
        if frame.dts is not None:
            self.faulty_dts += self._seen_dts is not None and frame.dts <= self._seen_dts
            self._seen_dts = frame.dts
        self._window.append(frame)
        return [self._time(self._window.popleft())] if len(self._window) > LOOKAHEAD else []

    def flush(self) -> list[tuple[av.VideoFrame, int]]:
        timed = []
        while self._window:
            timed.append(self._time(self._window.popleft()))
        return timed

    def _candidate(self, frame: av.VideoFrame) -> int | None:
        use_pts = frame.pts is not None and (frame.dts is None or self.faulty_pts <= self.faulty_dts)
        return frame.pts if use_pts else frame.dts

    def _time(self, frame: av.VideoFrame) -> tuple[av.VideoFrame, int]:
        """Time `frame`, the oldest; the frames after it are still in the window."""
        pts = self._candidate(frame)
        last = self._last
        if last is None and pts is None:  # the very first frame has no time at all
            pts = 0
            self.repairs.at_start += 1
        elif last is not None and (pts is None or pts <= last):
            pts = self._repaired(last, missing=pts is None, duration=frame.duration)
        self._last = pts
        return frame, pts

    def _repaired(self, last: int, missing: bool, duration: int | None) -> int:
        run = 1  # this frame and the bad ones after it, up to the next good time
        for later in self._window:
            after = self._candidate(later)
            if after is not None and after > last:
                if after - last > run:  # room for each frame of the run
                    self.repairs.between += 1
                    return last + (after - last) // (run + 1)
                break
            run += 1
        else:
            if missing:  # nothing later to go by
                self.repairs.one_frame += 1
                return last + (duration or self.default_duration or 1)
        self.repairs.one_tick += 1
        return last + 1
