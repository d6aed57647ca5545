"""Cutting a video into segments that are upscaled apart and joined back frame-exactly.

The plan is made from the packets alone (no decoding): every video packet's pts, and which
are keyframes. A segment covers the frames whose pts lies in [start, end) and starts on a
source keyframe. Its decode seeks to that keyframe and emits exactly those frames:

* leading frames of an open GOP (after the keyframe in decode order, before it in
  presentation order) have pts < start: they belong to the previous segment, which keeps
  decoding past the keyframe until the decoder hands it a frame with pts >= end;
* the count of frames emitted must equal the count of packets the index put in
  [start, end), so a seek that landed wrong or a packet that failed to decode is caught
  (`InexactSegment`), never written as a silent gap or double.

Segmenting is exact only where every frame carries its own real pts, in a container whose
index seeks to keyframes (mp4/mov, mkv/webm). Anything else (AVI with packed B-frames,
MPEG-TS, damaged files) is `NotSegmentable`, and the caller runs in one piece.
"""

import bisect
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from ..io.deinterlace import Deinterlacer
from ..io.frames import DecodedFrame, FramePacker, frame_ticks
from ..io.source import VideoInfo

SEEKABLE_FORMATS = ("mov", "mp4", "matroska", "webm")
"""Demuxers (by the names FFmpeg lists for the open file) whose index seeks to keyframes."""


class NotSegmentable(Exception):
    """The input cannot be cut exactly; `str()` says why, for a notice."""


class InexactSegment(Exception):
    """A segment's decode did not give exactly the frames the index promised."""


@dataclass(frozen=True)
class Segment:
    number: int
    start: int | None  # first pts (video time_base) that belongs here; None: from the first frame
    end: int | None  # first pts that does not; None: to the last frame
    seek: int | None  # where to seek (the starting keyframe's dts or pts); None: decode from the top
    frames: int  # frames it must emit
    first_pts: int  # of those frames
    last_pts: int

    @property
    def name(self) -> str:
        return f"seg-{self.number:05d}"


def plan_segments(path: os.PathLike | str, seconds: float) -> list[Segment]:
    """Segments of about `seconds` each (at least that long; each starts on a keyframe)."""
    with av.open(str(path), "r", metadata_errors="replace") as container:
        if not any(name in SEEKABLE_FORMATS for name in container.format.name.split(",")):
            raise NotSegmentable(f"{container.format.long_name or container.format.name} files have no index that seeks exactly")
        video = container.streams.video[0]
        time_base = video.time_base
        pts_list: list[int] = []
        keyframes: list[tuple[int, int]] = []  # (pts, where to seek)
        try:
            for packet in container.demux(video):
                if not packet.size or packet.is_discard:
                    continue
                if packet.pts is None:
                    raise NotSegmentable("some video packets carry no timestamp")
                pts_list.append(packet.pts)
                if packet.is_keyframe:
                    keyframes.append((packet.pts, packet.pts if packet.dts is None else min(packet.dts, packet.pts)))
        except av.FFmpegError as exc:
            raise NotSegmentable(f"the file does not demux cleanly ({exc})") from None
    if not pts_list:
        raise NotSegmentable("no video packets")
    pts_list.sort()
    if any(a == b for a, b in itertools.pairwise(pts_list)):
        raise NotSegmentable("some video frames share a timestamp")
    return _cut(pts_list, sorted(keyframes), time_base, seconds)


def _cut(pts_list: list[int], keyframes: list[tuple[int, int]], time_base: Fraction, seconds: float) -> list[Segment]:
    length = seconds / time_base
    starts: list[tuple[int, int]] = []  # (start pts, seek) of segments after the first
    last_start = pts_list[0]
    for pts, seek in keyframes:
        if pts - last_start >= length and pts_list[-1] >= pts:
            starts.append((pts, seek))
            last_start = pts
    bounds = [None] + [pts for pts, _ in starts] + [None]
    seeks = [None] + [seek for _, seek in starts]
    segments = []
    for number, (start, end, seek) in enumerate(zip(bounds, bounds[1:], seeks)):
        low = 0 if start is None else bisect.bisect_left(pts_list, start)
        high = len(pts_list) if end is None else bisect.bisect_left(pts_list, end)
        segments.append(Segment(number, start, end, seek, high - low, pts_list[low], pts_list[high - 1]))
    return segments


class SegmentSource:
    """The frames of one segment of a file (a vsr.video.io.source.FrameSource), in the layout
    of the whole input's `info` (a frame of another size is refused, as in a single run);
    video only: the copied streams are muxed once, at the join. Iterate `items()` once."""

    live = False  # a file: read as fast as the model takes it

    def __init__(self, path: Path, info: VideoInfo, segment: Segment):
        self.path, self.info, self.segment = Path(path), info, segment
        self._packer = FramePacker(info.layout, frame_ticks(info.frame_rate, info.time_base), f"{segment.name} of {self.path}")

    @property
    def frames_emitted(self) -> int:
        return self._packer.frames

    def items(self) -> Iterator[DecodedFrame]:
        """The segment's frames; deinterlaced as the whole run does, where it does (bwdif
        from the first frame on): then the frames on either side of the segment are decoded
        too and given to bwdif as the neighbours they are in the single run, and only the
        output of the segment's own frames is kept, so a border changes no frame."""
        segment, plan = self.segment, self.info.deinterlacing
        taken = 0
        with av.open(str(self.path), "r", metadata_errors="replace") as container:
            video = container.streams.video[0]
            video.thread_type = "AUTO"
            rate = video.average_rate or video.guessed_rate
            deinterlacer = Deinterlacer(plan, video.time_base, rate) if plan is not None and plan.active else None
            for inside, frame in self._around(container, video, neighbours=deinterlacer is not None):
                if inside:
                    self._check_cuttable(frame)
                    taken += 1
                if deinterlacer is None:
                    yield self._packer.pack(frame, frame.pts)
                else:
                    yield from self._kept(deinterlacer.push(frame, frame.pts), video.time_base)
            if deinterlacer is not None:
                yield from self._kept(deinterlacer.flush(), video.time_base)
        if taken != segment.frames:
            raise InexactSegment(f"{segment.name}: decoded {taken} frame(s) where the file lists {segment.frames}")

    def _around(self, container, video, neighbours: bool) -> Iterator[tuple[bool, av.VideoFrame]]:
        """(inside, frame): the segment's frames, and with `neighbours` the frame just before
        it (decoded from the keyframe before its own) and the one just after."""
        segment = self.segment
        last: int | None = None
        before = None
        if segment.seek is not None:
            container.seek(segment.seek - 1 if neighbours else segment.seek, stream=video, backward=True, any_frame=False)
        for frame in self._decode(container, video):
            pts = frame.pts
            if pts is None or (last is not None and pts <= last):
                raise InexactSegment(f"{segment.name}: the decoder gave frames without increasing timestamps")
            last = pts
            if segment.start is not None and pts < segment.start:
                before = frame
                continue
            if before is not None and neighbours:
                yield False, before
            before = None
            if segment.end is not None and pts >= segment.end:
                if neighbours:
                    yield False, frame
                return
            yield True, frame

    def _kept(self, done: list[tuple[av.VideoFrame, int]], time_base: Fraction) -> Iterator[DecodedFrame]:
        """The deinterlaced frames made from the segment's own frames (by time: a second
        field lies between its frame and the next)."""
        segment, out_base = self.segment, self.info.time_base
        for frame, pts in done:
            at = pts * out_base
            if (segment.start is None or at >= segment.start * time_base) and (segment.end is None or at < segment.end * time_base):
                yield self._packer.pack(frame, pts)

    def _check_cuttable(self, frame: av.VideoFrame) -> None:
        """Frames a segment cannot make exactly as a single run does: interlaced frames in
        content that began progressive (the single run starts bwdif at the first of them,
        which a segment cannot know), and one of another size (scaled or refused by the
        single run's policy)."""
        info, name, plan = self.info, self.segment.name, self.info.deinterlacing
        if frame.interlaced_frame and plan is not None and plan.mode != "off" and not plan.active:
            raise InexactSegment(f"{name}: interlaced frames after progressive ones (the single run starts deinterlacing at the first)")
        if (frame.width, frame.height) != (info.layout.width, info.layout.height):
            raise InexactSegment(f"{name}: the frame size changes mid-stream")

    def _decode(self, container, video) -> Iterator[av.VideoFrame]:
        try:
            for packet in container.demux(video):
                try:
                    yield from video.decode(packet)
                except av.EOFError:
                    return
        except av.FFmpegError as exc:
            raise InexactSegment(f"{self.segment.name}: {exc}") from None
