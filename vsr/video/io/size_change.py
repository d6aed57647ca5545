"""Frames that change size, pixel format or colour tags mid-stream (DVB recordings, joined
captures), made like the first frame, as FFmpeg's own auto-scaling does.

`FrameConformer.conform(frame)` returns a frame of the first frame's size, pixel format,
matrix and range: a frame of another size is scaled to the first size (bicubic, as FFmpeg
scales; the picture is stretched to it, as FFmpeg does), one of another format or matrix
or range is converted by swscale. `report()` gives one line that counts them. The policy
`error` refuses the first frame of another size instead, naming where it changed.

Primaries and transfer are not converted (swscale cannot): a frame tagged otherwise keeps
its values and is counted, and the output keeps the first frame's tags.
A frame made so is no longer flagged interlaced (PyAV cannot set the flag), so an
interlaced frame of another size goes on woven: scaling it mixed its fields already.

Only the frames whose time lies in `counted` (a trim's span; by default all) are counted,
or refused by `error`: those decoded around a trim are made like the first, then dropped.
"""

from dataclasses import dataclass, field
from fractions import Fraction

import av
from av.video.reformatter import VideoReformatter

from ...constants import SIZE_CHANGE_POLICIES
from ...errors import InputError, UsageError
from .trim import ALL_TIME

COLOUR_TAGS = ("colorspace", "color_range", "color_primaries", "color_trc")
UNSPECIFIED = 2  # FFmpeg's "unspecified" matrix, primaries and transfer


def check_policy(policy: str) -> str:
    if policy not in SIZE_CHANGE_POLICIES:
        raise UsageError(f"on_size_change must be one of {', '.join(SIZE_CHANGE_POLICIES)}, got {policy!r}", hint="change {on_size_change}")
    return policy


@dataclass
class Changes:
    resized: int = 0  # frames scaled to the first size
    sizes: list[tuple[int, int]] = field(default_factory=list)  # the other sizes seen, in order
    converted: int = 0  # frames of another pixel format, matrix or range, converted
    formats: list[str] = field(default_factory=list)  # what they were, in order
    retagged: int = 0  # frames of other primaries or transfer (kept, tagged as the first)


class FrameConformer:
    """Makes each frame like `first`. `where` names the input in the error of policy `error`."""

    def __init__(self, first: av.VideoFrame, policy: str = "scale", where: str = "the input"):
        self.policy, self.where = check_policy(policy), where
        self.size = (first.width, first.height)
        self.format = first.format.name
        self.tags = {name: int(getattr(first, name)) for name in COLOUR_TAGS}
        self.changes = Changes()
        self.counted = ALL_TIME  # the frames counted and refused (vsr.video.io.trim.Span)
        self.frames = 0
        self._scaler = VideoReformatter()

    def conform(self, frame: av.VideoFrame, pts: int | None = None, time_base: Fraction | None = None) -> av.VideoFrame:
        """`frame` made like the first; `pts` x `time_base`: its time, which `counted` needs
        where it is not all time."""
        index, self.frames = self.frames, self.frames + 1
        counted = self.counted.holds(pts, time_base)
        size = (frame.width, frame.height)
        tags = {name: int(getattr(frame, name)) for name in COLOUR_TAGS}
        if size != self.size and self.policy == "error" and counted:
            (w0, h0), (w1, h1) = self.size, size
            raise InputError(
                f"the frame size changes from {w0}x{h0} to {w1}x{h1} at frame {index} of {self.where}",
                hint="cut the input there, or leave {on_size_change=scale} to scale the rest to the first size",
            )
        matrix_or_range = (tags["colorspace"], tags["color_range"]) != (self.tags["colorspace"], self.tags["color_range"])
        if counted:
            self._count(size, frame.format.name, tags, matrix_or_range)
        if size == self.size and frame.format.name == self.format and not matrix_or_range:
            return frame
        return self._convert(frame, tags)

    def _count(self, size: tuple[int, int], pixel_format: str, tags: dict[str, int], matrix_or_range: bool) -> None:
        if tags["color_primaries"] != self.tags["color_primaries"] or tags["color_trc"] != self.tags["color_trc"]:
            self.changes.retagged += 1
        if size != self.size:
            self.changes.resized += 1
            _note(self.changes.sizes, size)
        if pixel_format != self.format or matrix_or_range:
            self.changes.converted += 1
            _note(self.changes.formats, f"{pixel_format} ({_matrix(tags)})")

    def _convert(self, frame: av.VideoFrame, tags: dict[str, int]) -> av.VideoFrame:
        width, height = self.size
        out = self._scaler.reformat(
            frame,
            width=width,
            height=height,
            format=self.format,
            src_colorspace=_swscale_matrix(tags["colorspace"]),
            dst_colorspace=_swscale_matrix(self.tags["colorspace"]),
            interpolation="BICUBIC",
            src_color_range=tags["color_range"] or None,
            dst_color_range=self.tags["color_range"] or None,
        )
        out.pts, out.duration = frame.pts, frame.duration
        if frame.time_base is not None:
            out.time_base = frame.time_base
        for name, value in self.tags.items():
            setattr(out, name, value)
        return out

    def report(self) -> str | None:
        """One line for the run's warnings, or None when every frame was like the first."""
        c, (w, h) = self.changes, self.size
        parts = []
        if c.resized:
            sizes = ", ".join(f"{a}x{b}" for a, b in c.sizes)
            parts.append(f"{c.resized} frame(s) of another size ({sizes}) were scaled to the first frame's {w}x{h}")
        if c.converted:
            formats, first = ", ".join(c.formats), f"{self.format} ({_matrix(self.tags)})"
            parts.append(f"{c.converted} frame(s) in another pixel format or matrix/range ({formats}) were converted to the first's {first}")
        if c.retagged:
            parts.append(f"{c.retagged} frame(s) tagged with other colour primaries or transfer were written with the first frame's tags")
        return "the input changes mid-stream: " + "; ".join(parts) if parts else None


def _note(seen: list, value) -> None:
    if value not in seen:
        seen.append(value)


def _swscale_matrix(code: int) -> int | None:
    """swscale's colour space for FFmpeg's matrix code (the codes are the same; unspecified: its default)."""
    return None if code in (0, UNSPECIFIED) else code


def _matrix(tags: dict[str, int]) -> str:
    return f"matrix {tags['colorspace']}, range {tags['color_range']}"
