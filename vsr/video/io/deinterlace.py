"""Interlaced and telecined input, made progressive before the network sees it.

Detection reads the stream's field order (`codec_context.field_order`) and each decoded
frame's `interlaced_frame` flag. The work is FFmpeg's, through PyAV's filter graph:

- `auto` (the default): the frames flagged interlaced go through bwdif at field rate (25i
  becomes 50p, each frame at its field's time); progressive frames pass as they are, so
  mixed content is handled frame by frame. A stream with no interlaced frame is untouched.
- `field`: every frame through bwdif at field rate, flagged or not (captures whose flags lie).
- `frame`: every frame through bwdif at the frame rate (one frame out per frame in).
- `ivtc`: inverse telecine of hard-telecined film: fieldmatch, then bwdif for the frames
  no field matches (orphans), then decimate (one frame in five): 29.97i becomes 23.976p.
- `off`: frames are upscaled as they are, woven; `Deinterlacer.report` says how many were
  flagged interlaced.

bwdif and fieldmatch take the field order from each frame's own flag (parity auto), so top
and bottom field first need no setting. Output frames are progressive (the graph clears
the flag; the sink tags the stream progressive).

`Deinterlacer.report` counts the frames in and out whose time lies in `counted` (a trim's
span; by default all): the neighbours bwdif reads from outside a trim are not counted.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
from av.filter import Graph

from ...constants import DEINTERLACE_MODES
from ...errors import InputError, UsageError
from .trim import ALL_TIME

FIELD_ORDERS = {2: "top field first", 3: "bottom field first", 4: "top field first, bottom coded first", 5: "bottom field first, top coded first"}
"""FFmpeg's AVFieldOrder codes of interlaced streams (0 unknown, 1 progressive)."""

FILTERS = {
    "auto": "bwdif=mode=send_field:parity=auto:deint=interlaced",
    "field": "bwdif=mode=send_field:parity=auto:deint=all",
    "frame": "bwdif=mode=send_frame:parity=auto:deint=all",
    "ivtc": "fieldmatch=order=auto:combmatch=full,bwdif=mode=send_frame:deint=interlaced,decimate",
}
RATE_FACTORS = {"auto": Fraction(2), "field": Fraction(2), "frame": Fraction(1), "ivtc": Fraction(4, 5)}
"""Output frames per input frame of a fully interlaced (telecined) input, per mode."""


def check_mode(mode: str) -> str:
    if mode not in DEINTERLACE_MODES:
        raise UsageError(f"deinterlace must be one of {', '.join(DEINTERLACE_MODES)}, got {mode!r}", hint="change {deinterlace}")
    return mode


def link_chain(graph: Graph, buffer: str, filters: str) -> None:
    """A `buffer` source (FFmpeg's buffer filter arguments) through the comma-separated
    `filters` (`name=args` each) into a buffersink, linked in `graph`."""
    nodes = [graph.add("buffer", buffer)]
    nodes += [graph.add(name, args) for name, _, args in (spec.partition("=") for spec in filters.split(","))]
    graph.link_nodes(*nodes, graph.add("buffersink"))


@dataclass(frozen=True)
class Deinterlacing:
    """What is done to an input's frames, decided from its stream and first frame."""

    mode: str
    field_order: str | None  # FIELD_ORDERS' words, or None (progressive or not said)
    active: bool  # a filter runs from the first frame on (auto: starts at the first interlaced frame)
    time_base: Fraction  # of the frames that come out (the input's, halved at field rate)
    frame_rate: Fraction | None  # of the frames that come out

    @property
    def changes_rate(self) -> bool:
        return self.active and RATE_FACTORS[self.mode] != 1


def plan_deinterlace(mode: str, field_order: int, first: av.VideoFrame, time_base: Fraction, frame_rate: Fraction | None) -> Deinterlacing:
    """The deinterlacing of a stream whose codec says `field_order` and whose first decoded
    frame is `first`. bwdif at field rate halves the time base, so every field keeps its
    exact time."""
    check_mode(mode)
    order = FIELD_ORDERS.get(int(field_order or 0))
    interlaced = order is not None or bool(first.interlaced_frame)
    active = mode in ("field", "frame", "ivtc") or (mode == "auto" and interlaced)
    if not active or RATE_FACTORS[mode] == 1:
        return Deinterlacing(mode, order, active, time_base, frame_rate)
    factor = RATE_FACTORS[mode]
    out_base = time_base / 2 if factor == 2 else time_base
    return Deinterlacing(mode, order, active, out_base, frame_rate * factor if frame_rate else None)


class Deinterlacer:
    """Frames in (decoded, with their pts in the input's time base), progressive frames out
    (pts in `plan.time_base`). Push every frame, then `flush()` once."""

    def __init__(self, plan: Deinterlacing, time_base: Fraction, frame_rate: Fraction | None):
        """`time_base` and `frame_rate`: the input's (the frames pushed)."""
        self.plan, self.time_base, self.frame_rate = plan, Fraction(time_base), Fraction(frame_rate) if frame_rate else None
        self.counted = ALL_TIME  # the frames in and out that report() counts (vsr.video.io.trim.Span)
        self.interlaced_in = 0  # frames flagged interlaced
        self.frames_in = self.frames_out = 0
        self._graph: Graph | None = None

    def push(self, frame: av.VideoFrame, pts: int) -> list[tuple[av.VideoFrame, int]]:
        if self.counted.holds(pts, self.time_base):
            self.frames_in += 1
            self.interlaced_in += bool(frame.interlaced_frame)
        if self._graph is None and self.plan.mode != "off" and (self.plan.active or frame.interlaced_frame):
            self._graph = self._filtering(lambda: self._open(frame), frame)
        if self._graph is None:
            return [self._out(frame, self._rescale(pts, self.time_base))]
        frame.pts, frame.time_base = pts, self.time_base
        self._filtering(lambda: self._graph.vpush(frame), frame)
        return self._pull()

    def flush(self) -> list[tuple[av.VideoFrame, int]]:
        if self._graph is None:
            return []
        self._filtering(lambda: self._graph.vpush(None), None)
        return self._pull()

    def _filtering(self, step, frame: av.VideoFrame | None):
        """`step()`, with FFmpeg's refusal (a pixel format or size its filters do not take)
        as one line."""
        try:
            return step()
        except av.FFmpegError as exc:
            what = f"{frame.format.name} {frame.width}x{frame.height} frames" if frame is not None else "the last frames"
            name = FILTERS[self.plan.mode].split("=")[0]
            raise InputError(f"FFmpeg's {name} cannot deinterlace {what} ({exc})", hint="pass {deinterlace=off} to upscale them woven") from None

    def report(self) -> str | None:
        """One line for the run's warnings: what was done, or that woven frames went through."""
        if not self.interlaced_in and not self.plan.active:
            return None
        order = f" ({self.plan.field_order})" if self.plan.field_order else ""
        counted = f"{self.interlaced_in} of {self.frames_in} frame(s) flagged interlaced{order}"
        if self.plan.mode == "off":
            return f"{counted} were upscaled woven, combing and all: deinterlacing is off"
        done = {
            "auto": "deinterlaced with bwdif at field rate",
            "field": "every frame deinterlaced with bwdif at field rate",
            "frame": "every frame deinterlaced with bwdif at the frame rate",
            "ivtc": "inverse-telecined (fieldmatch, decimate)",
        }[self.plan.mode]
        return f"{counted}; {done}: {self.frames_in} frame(s) in, {self.frames_out} progressive frame(s) out"

    # -- internals ---------------------------------------------------------------------

    def _open(self, first: av.VideoFrame) -> Graph:
        graph = Graph()
        tb, rate = self.time_base, self.frame_rate or 1 / self.time_base  # telecine-aware filters need a rate
        args = f"video_size={first.width}x{first.height}:pix_fmt={first.format.name}:time_base={tb.numerator}/{tb.denominator}"
        link_chain(graph, f"{args}:frame_rate={rate.numerator}/{rate.denominator}", FILTERS[self.plan.mode])
        graph.configure()
        return graph

    def _pull(self) -> list[tuple[av.VideoFrame, int]]:
        out = []
        while True:
            try:
                frame = self._graph.vpull()
            except (av.BlockingIOError, av.EOFError):
                return out
            except av.FFmpegError as exc:
                raise InputError(f"FFmpeg's filters failed while deinterlacing ({exc})", hint="pass {deinterlace=off} to upscale the frames woven") from None
            out.append(self._out(frame, self._rescale(frame.pts, frame.time_base)))

    def _out(self, frame: av.VideoFrame, pts: int) -> tuple[av.VideoFrame, int]:
        """A frame going out at `pts` (in `plan.time_base`), counted where `counted` holds it."""
        self.frames_out += self.counted.holds(pts, self.plan.time_base)
        return frame, pts

    def _rescale(self, pts: int, time_base: Fraction) -> int:
        if time_base == self.plan.time_base:
            return pts
        return round(pts * Fraction(time_base) / self.plan.time_base)


def progressive_frames(frames: Iterator[av.VideoFrame], stream, mode: str = "auto") -> Iterator[av.VideoFrame]:
    """`frames` decoded from `stream`, deinterlaced as `mode` says, each with its pts and
    time base set (so `frame.time` is its time): for readers that take frames one by one
    (vsr live). A frame without a pts is placed one tick after the one before."""
    time_base = Fraction(stream.time_base)
    rate = stream.average_rate or stream.guessed_rate
    deinterlacer, last = None, -1
    for frame in frames:
        if deinterlacer is None:
            plan = plan_deinterlace(mode, stream.codec_context.field_order, frame, time_base, Fraction(rate) if rate else None)
            deinterlacer = Deinterlacer(plan, time_base, Fraction(rate) if rate else None)
        last = frame.pts if frame.pts is not None and frame.pts > last else last + 1
        yield from _timed(deinterlacer.push(frame, last), deinterlacer.plan.time_base)
    if deinterlacer is not None:
        yield from _timed(deinterlacer.flush(), deinterlacer.plan.time_base)


def _timed(done: list[tuple[av.VideoFrame, int]], time_base: Fraction) -> Iterator[av.VideoFrame]:
    for frame, pts in done:
        frame.pts, frame.time_base = pts, time_base
        yield frame
