"""A part of the input: `--start`/`--duration` (FFmpeg's `-ss`/`-t`), for the video and every
passed-through stream alike.

FFmpeg does the seeking: the input is opened at the keyframe before the start
(VideoSource's `start`, an index seek where the file has one; a pipe or URL is read from
its top instead), then `TrimmedSource` keeps

- exactly the video frames whose time lies in [start, start + duration);
- for each passed-through stream (audio, subtitles), its packets from the first keyframe
  packet at or after the start (every audio packet is one) to those before the end: a
  packet is stream-copied whole, never cut;

and moves every timestamp back by the start, so the output begins at 0, as FFmpeg's
input `-ss` does. Times are seconds from the input's own start (its first timestamp).
A trimmed run always runs in one piece (vsr.video.io.job.run_kind).

The frames read around the part (from the keyframe, bwdif's neighbours, the margin) are
decoded, conformed and deinterlaced like the rest, but the source is told the part's
`Span`, and its reading warnings count only the frames inside it
(VideoSource.count_within).
"""

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av

from ...errors import UsageError
from .frames import DecodedFrame

MARGIN_SECONDS = 1.0
"""How far past the end the input is still read for passed-through packets that the file
interleaves after the video around them."""


@dataclass(frozen=True)
class Trim:
    start: float = 0.0  # seconds from the input's start
    duration: float | None = None  # None: to the end

    def __post_init__(self):
        if self.start < 0 or not math.isfinite(self.start):
            raise UsageError(f"the start must be 0 s or later, got {self.start:g}", hint="change {start}")
        if self.duration is not None and not (self.duration > 0 and math.isfinite(self.duration)):
            raise UsageError(f"the duration must be more than 0 s, got {self.duration:g}", hint="change {duration}")

    @property
    def active(self) -> bool:
        return self.start > 0 or self.duration is not None

    @property
    def end(self) -> float:
        return math.inf if self.duration is None else self.start + self.duration

    def describe(self) -> str:
        span = f"{self.start:g} s" + (" to the end" if self.duration is None else f" to {self.end:g} s")
        return f"from {span}"


WHOLE = Trim()


@dataclass(frozen=True)
class Span:
    """A stretch of the input's time, in seconds on its own clock (its first timestamp,
    not 0): [start, end), None for an open side. A trim keeps the frames inside it."""

    start: Fraction | None = None
    end: Fraction | None = None

    def holds(self, pts: int | None, time_base: Fraction | None) -> bool:
        """Whether the time `pts` x `time_base` lies inside (all time holds any, timed or not)."""
        if self.start is None and self.end is None:
            return True
        at = pts * Fraction(time_base)
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)


ALL_TIME = Span()


def seek_to_keyframe_before(container, video, seconds: float) -> None:
    """FFmpeg's index seek to the keyframe at or before `seconds` from the video's start; a
    file that cannot seek is read from its top (the frames before are skipped, not kept).

    Where the seek is not keyframe-exact (MPEG-TS seeks by bytes and lands on whatever
    packet follows), the first packet after it is checked: unless it is a keyframe at or
    before the target, the seek goes a second, then two, four... further back, and at
    last to the top, so no frame of the part is lost to a decoder waiting for a keyframe."""
    origin = video.start_time or 0
    target = origin + int(Fraction(seconds).limit_denominator(1_000_000) / video.time_base)
    back, second = 0, max(1, int(1 / video.time_base))
    try:
        while True:
            at = target - back
            last = at <= origin or back >= 64 * second
            if last:
                at = origin - second  # before the first frame: the top (a TS lands past a seek *to* its first)
            container.seek(at, stream=video, backward=True, any_frame=False)
            first = next((p for p in container.demux(video) if p.pts is not None), None)
            if last or (first is not None and first.is_keyframe and first.pts <= target):
                container.seek(at, stream=video, backward=True, any_frame=False)  # the same place again
                return
            back = max(second, 2 * back)
    except av.FFmpegError:
        with contextlib.suppress(av.FFmpegError):
            container.seek(0)


class TrimmedSource:
    """`source` (a VideoSource opened at `trim.start`) limited to `trim`: a FrameSource."""

    def __init__(self, source, trim: Trim):
        self.source, self.trim = source, trim
        stream = source.video
        origin = Fraction(stream.start_time or 0) * Fraction(stream.time_base)
        zero = origin + Fraction(trim.start).limit_denominator(1_000_000)  # input time (s) that becomes 0
        end = None if trim.duration is None else zero + Fraction(trim.duration).limit_denominator(1_000_000)
        self.span = Span(zero, end)  # the frames kept, and the only ones the reading warnings count
        source.count_within(self.span)
        info = source.info
        rate = float(info.frame_rate) if info.frame_rate else None
        estimate = info.frames_estimated
        if rate and trim.duration is not None:
            estimate = min(estimate or math.inf, max(1, round(trim.duration * rate)))
        elif rate and estimate:
            estimate = max(1, estimate - round(trim.start * rate))
        self.info = dataclasses.replace(info, frames_expected=None, frames_estimated=estimate)
        self.frames = 0

    @property
    def live(self) -> bool:
        return self.source.live

    def items(self) -> Iterator["DecodedFrame | av.Packet"]:
        video_tb = Fraction(self.info.time_base)
        end = self.span.end
        shift = round(self.span.start / video_tb)
        started: set[int] = set()  # passed-through streams whose first keyframe at or after the start came
        for item in self.source.items():
            if isinstance(item, DecodedFrame):
                at = item.pts * video_tb
                if end is not None and at >= end:
                    if not self.source.copied or at >= end + Fraction(MARGIN_SECONDS).limit_denominator():
                        break
                    continue
                if not self.span.holds(item.pts, video_tb):
                    continue
                self.frames += 1
                yield dataclasses.replace(item, pts=item.pts - shift)
            elif self._keep(item, started):
                yield item
        # only part of the file was read: its whole-file checks say nothing about the part
        self.source.damage.frames_missing, self.source.damage.seconds_missing = 0, 0.0

    def _keep(self, packet: av.Packet, started: set[int]) -> bool:
        """A passed-through packet inside the trim (from its stream's first keyframe at
        or after the start), its timestamps moved back by the start."""
        if packet.pts is None or not packet.time_base:
            return packet.stream.index in started
        tb = Fraction(packet.time_base)
        if not self.span.holds(packet.pts, tb):
            return False
        index = packet.stream.index
        if index not in started:
            if not packet.is_keyframe:
                return False
            started.add(index)
        shift = round(self.span.start / tb)
        if packet.dts is not None:
            packet.dts -= shift
        packet.pts -= shift
        return True
