"""Presentation timestamps for decoded frames, including from files that lack them.

Decoders return frames in presentation order, but the pts they carry can be wrong: an AVI
with packed B-frames has no presentation times at all, so each frame gets the time of a
neighbouring packet (1, 2, 3, 5, 4, 6, 8, 7, ...). Like FFmpeg's best-effort timestamp we
count how often pts and dts go backwards and trust the one that fails less; unlike it, we
decide each frame only after seeing a few more (`LOOKAHEAD`), so the first fault is not
already written out. A time that still does not move forward becomes the previous time
plus one tick (a missing time: plus one frame duration), counted as repaired; frames
are never dropped or reordered, and one bad time does not shift the frames after it.
"""

from collections import deque

import av

LOOKAHEAD = 8


class FrameTimer:
    def __init__(self, default_duration: int | None):
        self.default_duration = default_duration
        self.faulty_pts = self.faulty_dts = 0
        self.repaired = 0
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
        timed = [self._time(frame) for frame in self._window]
        self._window.clear()
        return timed

    def _time(self, frame: av.VideoFrame) -> tuple[av.VideoFrame, int]:
        use_pts = frame.pts is not None and (frame.dts is None or self.faulty_pts <= self.faulty_dts)
        pts = frame.pts if use_pts else frame.dts
        if pts is None:  # no time at all: one frame after the previous
            pts = 0 if self._last is None else self._last + (frame.duration or self.default_duration or 1)
            self.repaired += 1
        elif self._last is not None and pts <= self._last:  # a repeat: the smallest step on,
            pts = self._last + 1  # so later frames keep their own times and stay in sync
            self.repaired += 1
        self._last = pts
        return frame, pts
