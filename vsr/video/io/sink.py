"""The output file, written as an OutputPlan (vsr.video.io.plan) says: one encoded video
stream with the input's timestamps and colour tags, plus the input's streams the plan
copies (packet for packet), its attachments, chapters and metadata.

The sink decides nothing: the encoder, pixel format, colour and the streams it copies are
the plan's. It never sees the source either: it is handed what it copies (`CopiedInput`)."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ...errors import OutputError, UsageError
from .audio import AudioTranscoder
from .codecs import keeping_thread_scheduling
from .palette import PaletteFilter
from .output_size import INTERPOLATION
from .plan import OutputPlan

PROGRESSIVE = 1  # FFmpeg's AV_FIELD_PROGRESSIVE
MUXER_OWNED_METADATA = {"encoder", "major_brand", "minor_version", "compatible_brands"}


@dataclass
class CopiedInput:
    """What an output copies from its input besides the frames: the input's streams by
    index (templates for the copied ones and attachments), its metadata and chapters."""

    streams: Mapping[int, av.stream.Stream] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    chapters: Sequence = ()

    @classmethod
    def of(cls, container: av.container.InputContainer) -> "CopiedInput":
        return cls({s.index: s for s in container.streams}, dict(container.metadata), container.chapters())


class VideoSink:
    """Writes `plan` to `path` (the file written now: often a temporary name for
    `plan.output`): frames and packets, then `finish()` (flush, trailer) or `abort()`.
    `path` may instead be an output container already open (a pipe or URL, opened by
    vsr.video.io.endpoints in the plan's container). Not thread-safe: one writer thread."""

    def __init__(self, path: "Path | av.container.OutputContainer", plan: OutputPlan, copied: CopiedInput | None = None):
        self.plan = plan
        self.codec, self.layout, self.colour = plan.codec, plan.layout, plan.colour
        self.frame_tags = plan.frame_tags
        self.time_base = plan.video.time_base
        copied = copied or CopiedInput()
        try:
            opened = isinstance(path, av.container.OutputContainer)
            self.output = path if opened else av.open(str(path), "w", format=plan.container)
        except av.FFmpegError as exc:
            raise OutputError(f"cannot write {plan.output}: {exc}") from None
        try:
            self.video = self._add_video()
            self.stream_map = self._add_copied(copied)
            self._add_metadata(copied)
            self._start()
        except BaseException:
            self.output.close()
            raise
        self.frames_written = 0
        self.packets_retimed = 0  # copied packets whose dts went backwards (damaged input)
        self.packets_dropped = 0  # copied packets the muxer still refused
        self.frames_retimed = 0  # frames moved on so that the container's coarser clock keeps them apart
        self._last_dts: dict = {}
        self._last_tick: int | None = None  # the last frame's time in the output stream's ticks

    def _add_video(self):
        plan, info = self.plan, self.plan.video
        stream = self.output.add_stream(codec_name=plan.codec, rate=info.frame_rate or 25)
        ctx = stream.codec_context
        (ctx.width, ctx.height), ctx.pix_fmt = plan.size, "pal8" if plan.palette else plan.encoder_pix_fmt or plan.layout.format
        self._palette = PaletteFilter(*plan.size, plan.layout.format, info.time_base) if plan.palette else None
        ctx.time_base = plan.clock or info.time_base  # frames carry the input's; PyAV rescales them
        ctx.thread_count = 0
        ctx.field_order = PROGRESSIVE  # frames reach the encoder progressive (vsr.video.io.deinterlace)
        for name, value in plan.frame_tags.items():
            setattr(ctx, name, value)
        if plan.sample_aspect_ratio:
            ctx.sample_aspect_ratio = plan.sample_aspect_ratio
        ctx.options = plan.options
        if info.rotation:
            stream.set_display_rotation(info.rotation)
        stream.metadata.update({k: v for k, v in info.stream_metadata.items() if k in ("language", "title", "handler_name", "timecode")})
        return stream

    def _add_copied(self, copied: CopiedInput) -> dict:
        """Output streams for the plan's copied streams (by input index); attachments."""
        stream_map = {}
        encoded = {e.index: e.encoder for e in self.plan.encoded_audio}
        self.transcoders = {}
        for index in self.plan.copied:
            template = copied.streams[index]
            if index in encoded:
                self.transcoders[index] = AudioTranscoder(self.output, template, encoded[index])
                stream_map[index] = self.transcoders[index].stream
                continue
            out = self.output.add_stream_from_template(template)
            out.metadata.update(template.metadata)
            out.disposition = template.disposition
            stream_map[index] = out
        for index in self.plan.attachments:
            attachment = copied.streams[index]
            self.output.add_attachment(attachment.name, attachment.mimetype, attachment.data)
        return stream_map

    def _add_metadata(self, copied: CopiedInput) -> None:
        self.output.metadata.update({k: v for k, v in copied.metadata.items() if k.lower() not in MUXER_OWNED_METADATA})
        if copied.chapters:
            self.output.set_chapters(list(copied.chapters))

    def _start(self) -> None:
        """Open the encoder and write the header now, so a bad encoder option or a codec
        the container refuses is one clear error before any frame is decoded."""
        try:
            with keeping_thread_scheduling():
                self.output.start_encoding()
        except (av.FFmpegError, ValueError) as exc:
            options = ", ".join(f"{k}={v}" for k, v in self.plan.options.items()) or "no options"
            raise UsageError(
                f"cannot start {self.codec} ({options}) into {self.plan.output.suffix}: {exc}",
                hint="check {codec}, {encoder_preset} and the output suffix",
            ) from None

    def write_frame(self, pts: int, duration: int | None, packed: np.ndarray) -> None:
        pts = self._distinct(pts)
        frame = self.layout.write(packed)
        frame.pts, frame.time_base = pts, self.time_base
        if duration:
            frame.duration = duration
        if self.plan.encoder_pix_fmt or self.plan.resize:  # FFmpeg's swscale: to the exact size (Lanczos), to the image encoder's format
            width, height = self.plan.size
            frame = frame.reformat(width=width, height=height, format=self.plan.encoder_pix_fmt, interpolation=INTERPOLATION)
            frame.pts, frame.time_base = pts, self.time_base
            if duration:
                frame.duration = duration
        for name, value in self.frame_tags.items():
            setattr(frame, name, value)
        for ready in self._palette.push(frame) if self._palette else (frame,):
            self._mux(self.video.encode(ready))
        self.frames_written += 1

    def _distinct(self, pts: int) -> int:
        """`pts`, moved on if the container's clock (mkv: 1 ms) would give it the same time
        as the frame before: distinct input times a fraction of a tick apart (a VFR
        source, a repaired time one input tick on) must not merge into one output time."""
        tick = Fraction(self.video.time_base) / Fraction(self.time_base)  # output tick in input ticks
        at = math.floor(pts / tick + Fraction(1, 2))  # as the muxer rounds
        if self._last_tick is not None and at <= self._last_tick:
            at = self._last_tick + 1
            pts = max(pts, math.ceil((at - Fraction(1, 2)) * tick))  # rounds to `at` in the muxer
            self.frames_retimed += 1
        self._last_tick = at
        return pts

    def write_packet(self, packet: av.Packet) -> None:
        """Copy a packet unchanged; a dts that does not move forward (damaged input) is
        nudged one tick on, as ffmpeg does, and a packet the muxer still refuses is
        counted and skipped rather than ending the run."""
        index = packet.stream.index
        if index in self.transcoders:
            self._transcode(index, packet)
            return
        last = self._last_dts.get(index)
        if packet.dts is not None and last is not None and packet.dts <= last:
            packet.dts = last + 1
            if packet.pts is not None and packet.pts < packet.dts:
                packet.pts = packet.dts
            self.packets_retimed += 1
        if packet.dts is not None:
            self._last_dts[index] = packet.dts
        packet.stream = self.stream_map[index]
        try:
            self.output.mux(packet)
        except av.FFmpegError:
            self.packets_dropped += 1

    def _transcode(self, index: int, packet: av.Packet) -> None:
        """Re-encoded audio: a packet that does not decode is counted as refused."""
        try:
            self.transcoders[index].write(packet)
        except av.FFmpegError:
            self.packets_dropped += 1

    def copy_report(self) -> str | None:
        parts = []
        if self.packets_retimed:
            parts.append(f"{self.packets_retimed} copied audio/subtitle packet(s) had timestamps going backwards and were moved one tick on")
        if self.packets_dropped:
            parts.append(f"{self.packets_dropped} copied packet(s) were refused by the muxer and left out")
        return "; ".join(parts) or None

    def _mux(self, packets) -> None:
        for packet in packets:
            self.output.mux(packet)

    def finish(self) -> None:
        for ready in self._palette.push(None) if self._palette else ():
            self._mux(self.video.encode(ready))
        self._mux(self.video.encode(None))
        for transcoder in self.transcoders.values():
            transcoder.finish()
        self.output.close()

    def abort(self) -> None:
        try:
            self.output.close()
        except av.FFmpegError:
            pass
