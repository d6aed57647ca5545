"""Opening a video for the pipeline: checks that give one clear line for bad input, the
facts the encoder needs (read off the first decoded frame), and the decode loop that
yields every frame that decodes plus every packet of the streams that are copied.

Damage does not end a run: a packet that fails to decode or demux is counted, reported
at the end, and skipped. Timestamps come from vsr.video.io.timing (the input's own, with
FFmpeg's best-effort choice between pts and dts for files that lack real ones).
"""

import dataclasses
import os
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av

from ...errors import InputError
from .colour import ColourSpec
from .deinterlace import Deinterlacer, Deinterlacing, plan_deinterlace
from .endpoints import DEFAULT_TIMEOUT, Endpoint, check_input_file, classify, describe_failure, open_input
from .hdr import HdrInfo, read_hdr
from .frames import DecodedFrame, FramePacker, describe_frame, frame_ticks
from .planes import PlaneLayout
from .reading import DEFAULT_READING, ReadOptions
from .size_change import FrameConformer
from .tail import DecoderTail
from .timing import FrameTimer, Repairs
from .trim import Span, seek_to_keyframe_before

MAX_DEMUX_ERRORS = 100  # in a row, with no good packet between: the file is unreadable from there


@dataclass(frozen=True)
class VideoInfo:
    """What the output needs to know about the input's video stream."""

    layout: PlaneLayout
    colour: ColourSpec
    colour_tags: dict[str, int]  # color_primaries, color_trc, colorspace, color_range as tagged
    time_base: Fraction
    frame_rate: Fraction | None
    rotation: float
    sample_aspect_ratio: Fraction | None
    frames_expected: int | None
    source_format: str  # the decoded pixel format before any conversion
    stream_metadata: dict[str, str] = field(default_factory=dict)  # the video stream's tags
    frames_estimated: int | None = None  # the index's count, else duration x frame rate (mkv, webm, ts)
    deinterlacing: Deinterlacing | None = None  # what is done to interlaced frames (vsr.video.io.deinterlace)
    hdr: HdrInfo | None = None  # PQ or HLG, with its static metadata (vsr.video.io.hdr); None: SDR


@dataclass(frozen=True)
class StreamInfo:
    """One of the input's other streams, as vsr.video.io.plan needs to know it."""

    index: int
    type: str  # audio, subtitle, attachment, data
    codec: str | None  # canonical codec name ("unknown" if FFmpeg has none; None: no codec)
    name: str | None = None  # an attachment's file name
    timecode: str | None = None  # a timecode (tmcd) track's start, e.g. 01:00:00:00

    @property
    def described(self) -> str:
        return f"{self.type} stream #{self.index} ({self.codec})"


@dataclass
class DamageReport:
    corrupt_packets: int = 0
    demux_errors: int = 0
    timestamps: Repairs = field(default_factory=Repairs)
    ended_early: str | None = None
    frames_missing: int = 0  # fewer frames decoded than the container's index promised
    seconds_missing: float = 0.0  # the video ends this much before the duration the file declares

    def summary(self) -> str | None:
        parts = []
        if self.corrupt_packets:
            parts.append(f"{self.corrupt_packets} video packet(s) did not decode")
        if self.frames_missing:
            parts.append(f"{self.frames_missing} frame(s) listed in the file's index never arrived")
        if self.seconds_missing:
            parts.append(f"the video stops {self.seconds_missing:.2f} s before the end the file declares (truncated?)")
        if self.demux_errors:
            parts.append(f"{self.demux_errors} unreadable spot(s) skipped")
        if self.ended_early:
            parts.append(f"input ended early ({self.ended_early})")
        return "; ".join(parts) or None

    def timing_note(self) -> str | None:
        return self.timestamps.note()


class FrameSource(Protocol):
    """What the three stages (vsr.video.stages.upscale.run_stages) read frames from: a whole input
    (VideoSource) or one segment of a file (vsr.video.segments.cutting.SegmentSource)."""

    info: VideoInfo

    @property
    def live(self) -> bool:
        """Frames arrive at the sender's pace: there is no count of frames to expect."""
        ...

    def items(self) -> Iterator["DecodedFrame | av.Packet"]:
        """The frames, as DecodedFrames in `info.layout`, and any copied packets, in order."""
        ...


class VideoSource:
    """An open input (a FrameSource). Iterate `items()` once, from one thread; then `close()`."""

    def __init__(
        self, path: "os.PathLike | str | Endpoint", *, timeout: float | None = DEFAULT_TIMEOUT, reading: ReadOptions = DEFAULT_READING, start: float = 0.0
    ):
        """`path`: a file, or (vsr.video.io.endpoints) `-` for stdin, a URL or a device, which
        `timeout` (seconds per open or read) keeps from hanging; `self.path` is then its label.
        `reading`: deinterlacing and what a mid-stream size change does (vsr.video.io.reading).
        `start`: a file is read from the keyframe before this time (seconds from its start;
        vsr.video.io.trim keeps the frames from there)."""
        self.reading = reading
        self.endpoint = path if isinstance(path, Endpoint) else classify(path if isinstance(path, str) else Path(path))
        self.timeout = timeout
        if not self.endpoint.is_file:
            self.path = self.endpoint.label()
            self.container = open_input(self.endpoint, timeout)
        else:
            self.path = self.endpoint.path
            self._check_file()
            try:
                self.container = av.open(str(self.path), "r", metadata_errors="replace")
            except av.FFmpegError as exc:
                raise InputError(f"{self.path} is not a video FFmpeg can read ({_reason(exc)})") from None
        try:
            if not self.container.streams.video:
                raise InputError(f"{self.path} has no video stream")
            self.video = self.container.streams.video[0]
            if self.video.codec_context is None:  # a codec FFmpeg does not have, or a damaged header
                raise InputError(f"{self.path}: FFmpeg has no decoder for its video stream (unknown codec or a damaged header)")
            self.video.thread_type = "AUTO"
            self.streams = tuple(_describe_stream(s) for s in self.container.streams if s is not self.video)
            # Packets read while finding the first frame are kept for any stream that may be copied.
            self._kept = frozenset(s.index for s in self.streams if s.type in ("audio", "subtitle"))
            self.copied: frozenset[int] = frozenset()  # nothing until select_copied says
            self.damage = DamageReport()
            self._pending: deque = deque()
            self._tail = DecoderTail(self.video)
            if start and self.endpoint.is_file:
                seek_to_keyframe_before(self.container, self.video, start)
            self._packets = self._demux()
            self._reached: float | None = None  # end time (s) of the latest packet seen, any stream
            self._discarded = 0
            first = self._first_frame()
            self.info = self._describe(first)
            self._timer = FrameTimer(self._default_duration())  # in the input's own ticks
            self._conformer = FrameConformer(first, reading.on_size_change, str(self.path))
            self.deinterlacing = plan_deinterlace(reading.deinterlace, self.video.codec_context.field_order, first, self.info.time_base, self.info.frame_rate)
            self._deinterlacer = Deinterlacer(self.deinterlacing, self.info.time_base, self.info.frame_rate)
            self.info = deinterlaced_info(self.info, self.deinterlacing)
            self._packer = FramePacker(self.info.layout, self._default_duration(), str(self.path))
            self._pending.appendleft(first)
        except BaseException:
            self.container.close()
            raise

    def _check_file(self) -> None:
        check_input_file(self.path)

    @property
    def live(self) -> bool:
        return self.endpoint.live

    def select_copied(self, indices) -> None:
        """Yield the packets of these streams (by index: an OutputPlan's `copied`) from
        `items()`; call before iterating. By default none are copied."""
        self.copied = self._kept = frozenset(indices)

    def items(self) -> Iterator["DecodedFrame | av.Packet"]:
        """Every decodable video frame, as a DecodedFrame, and every packet of the copied
        streams, in file order."""
        while True:
            while self._pending:
                item = self._pending.popleft()
                if isinstance(item, av.VideoFrame):
                    yield from self._progressive(self._timer.push(item))
                elif item.stream.index in self.copied:
                    yield item
            try:
                packet = next(self._packets)
            except StopIteration:
                break
            self._route(packet)
        for frame in [*self._decode(None), *self._tail.held_back()]:
            yield from self._progressive(self._timer.push(frame))
        yield from self._progressive(self._timer.flush())
        yield from (self._pack(frame, pts) for frame, pts in self._deinterlacer.flush())
        self.damage.timestamps = self._timer.repairs
        expected = self.info.frames_expected
        packed = self._packer.frames
        if expected and packed < expected - self._discarded:
            self.damage.frames_missing = expected - self._discarded - packed
        elif not expected:
            self._check_declared_duration()

    def close(self) -> None:
        self.container.close()

    def count_within(self, span: Span) -> None:
        """Count in `reading_notes` only the frames inside `span` (vsr.video.io.trim: the
        frames read around a part, for its keyframe, bwdif's neighbours and the packets
        copied past its end, are not kept). Call before iterating."""
        self._deinterlacer.counted = self._conformer.counted = span

    def reading_notes(self) -> list[str]:
        """Warnings about how the frames were read: deinterlaced (or woven frames left so),
        and frames of another size or format made like the first; of the frames inside
        `count_within`'s span, by default all."""
        return [note for note in (self._deinterlacer.report(), self._conformer.report()) if note]

    # -- internals ---------------------------------------------------------------------

    def _first_frame(self) -> av.VideoFrame:
        for packet in self._packets:
            self._route(packet)
            for i, item in enumerate(self._pending):
                if isinstance(item, av.VideoFrame):
                    del self._pending[i]
                    return item
        drained = [*self._decode(None), *self._tail.held_back()]
        if drained:
            self._pending.extend(drained[1:])
            return drained[0]
        lost = f" ({self.damage.summary()})" if self.damage.summary() else ""
        raise InputError(f"no video frame in {self.path} could be decoded{lost}")

    def _route(self, packet: av.Packet) -> None:
        if packet.pts is not None and packet.time_base:
            end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            self._reached = end if self._reached is None else max(self._reached, end)
        if packet.stream is self.video:
            self._discarded += bool(packet.is_discard)  # hidden by an mp4 edit list: not lost
            self._tail.keep(packet)
            self._pending.extend(self._decode(packet))
        elif packet.size and packet.stream.index in self._kept:
            self._pending.append(packet)

    def _demux(self) -> Iterator[av.Packet]:
        errors_in_a_row = 0
        while True:
            try:
                for packet in self.container.demux():
                    errors_in_a_row = 0
                    yield packet
                return
            except av.FFmpegError as exc:
                if not self.endpoint.is_file and isinstance(exc, (OSError, av.ExitError)):  # a stream lost or timed out: no retry
                    self.damage.ended_early = describe_failure(exc, self.path, self.timeout)
                    return
                self.damage.demux_errors += 1
                errors_in_a_row += 1
                if errors_in_a_row >= MAX_DEMUX_ERRORS:
                    self.damage.ended_early = _reason(exc)
                    return

    def _decode(self, packet: av.Packet | None) -> list[av.VideoFrame]:
        try:
            frames = list(self.video.decode(packet))
        except av.EOFError:  # flushing a decoder that the demuxer's own flush packet already drained
            return []
        except av.FFmpegError:
            self.damage.corrupt_packets += 1
            return []
        for frame in frames:
            self._tail.saw(frame)
        return frames

    def _describe(self, frame: av.VideoFrame) -> VideoInfo:
        layout, colour = describe_frame(frame, self.video.codec_context.name)
        rate = self.video.average_rate or self.video.guessed_rate
        tags = {name: int(getattr(frame, name)) for name in ("color_primaries", "color_trc", "colorspace", "color_range")}
        return VideoInfo(
            layout=layout,
            colour=colour,
            colour_tags=tags,
            time_base=self.video.time_base,
            frame_rate=Fraction(rate) if rate else None,
            rotation=float(frame.rotation or 0),
            sample_aspect_ratio=Fraction(self.video.sample_aspect_ratio) if self.video.sample_aspect_ratio else None,
            frames_expected=self.video.frames or None,
            source_format=frame.format.name,
            stream_metadata=dict(self.video.metadata),
            frames_estimated=self.video.frames or self._frames_from_duration(rate),
            hdr=read_hdr(frame),
        )

    def _frames_from_duration(self, rate) -> int | None:
        """Containers without a frame index (mkv, webm, ts): the video's duration, else
        the file's, times the frame rate. An estimate for progress, never a promise."""
        if not rate:
            return None
        if self.video.duration and self.video.time_base:
            seconds = float(self.video.duration * self.video.time_base)
        elif self.container.duration:
            seconds = self.container.duration / 1_000_000
        else:
            return None
        return max(1, round(seconds * float(rate))) if seconds > 0 else None

    def _progressive(self, timed: list[tuple[av.VideoFrame, int]]) -> Iterator[DecodedFrame]:
        """Timed frames made like the first frame, deinterlaced as `reading` says, packed."""
        for frame, pts in timed:
            for done, at in self._deinterlacer.push(self._conformer.conform(frame, pts, self.video.time_base), pts):
                yield self._pack(done, at)

    def _pack(self, frame: av.VideoFrame, pts: int) -> DecodedFrame:
        return self._packer.pack(frame, pts)

    def _check_declared_duration(self) -> None:
        """Without a frame index (mkv, ts), compare where the last packet of any stream
        ended with the end the container declares: a truncated file stops short of it
        in every stream. (Audio that outlasts the video is not truncation.)"""
        if self._reached is None or not self.container.duration:
            return
        start = (self.container.start_time or 0) / 1_000_000
        declared_end = start + self.container.duration / 1_000_000
        frame = 1 / float(self.info.frame_rate or 25)
        if declared_end - self._reached > max(0.5, 3 * frame):  # a long last VFR frame is not loss
            self.damage.seconds_missing = declared_end - self._reached

    def _default_duration(self) -> int | None:
        return frame_ticks(self.info.frame_rate, self.info.time_base)


def deinterlaced_info(info: VideoInfo, plan) -> VideoInfo:
    """`info` as the deinterlaced frames come out (vsr.video.io.deinterlace.Deinterlacing):
    their time base and rate, and a count no longer promised where the rate changes."""
    if not plan.changes_rate:
        return dataclasses.replace(info, deinterlacing=plan)
    factor = plan.frame_rate / info.frame_rate if plan.frame_rate and info.frame_rate else None
    estimated = round(info.frames_estimated * factor) if info.frames_estimated and factor else None
    changed = {"time_base": plan.time_base, "frame_rate": plan.frame_rate, "frames_expected": None, "frames_estimated": estimated}
    return dataclasses.replace(info, deinterlacing=plan, **changed)


def _describe_stream(stream) -> StreamInfo:
    codec = None
    if stream.type in ("audio", "subtitle"):
        codec = stream.codec_context.codec.canonical_name if stream.codec_context else "unknown"
    elif stream.type == "data" and stream.codec_context is not None:
        codec = stream.codec_context.name or "unknown"
    name = getattr(stream, "name", None) if stream.type == "attachment" else None
    return StreamInfo(stream.index, stream.type, codec, name, stream.metadata.get("timecode") if stream.type == "data" else None)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
