"""The output file: one encoded video stream with the input's timestamps and colour tags,
plus every audio and subtitle stream of the input copied packet for packet, attachments,
chapters and metadata. Streams the container cannot hold are listed in `dropped`."""

import dataclasses
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from ..errors import OutputError, UsageError
from .codecs import EncoderSettings, choose_encoder, choose_pix_fmt, codec_fits, container_for
from .colour import DEFAULT_PRIMARIES_TRC, MATRIX_CODES, RANGE_FULL, RANGE_LIMITED, ColourSpec
from .planes import PlaneLayout
from .source import VideoInfo, VideoSource

OUTPUT_CHROMA_LOCATION = "left"
MUXER_OWNED_METADATA = {"encoder", "major_brand", "minor_version", "compatible_brands"}


class VideoSink:
    """Open with the final path's container format, write frames and packets, then
    `finish()` (flush, trailer) or `abort()`. Not thread-safe: one writer thread."""

    def __init__(
        self,
        target: Path,
        final_name: Path,
        source: "VideoSource | VideoInfo",
        scale: int,
        settings: EncoderSettings,
        notify: Callable[[str], None] = lambda message: None,
    ):
        """`source`: the input file, whose other streams, metadata and chapters are copied,
        or just the VideoInfo of frames from elsewhere (a live capture: video only).
        `target` may be an output container already open (a pipe or URL, in its format)."""
        info = source if isinstance(source, VideoInfo) else source.info
        opened = isinstance(target, av.container.OutputContainer)
        self.container_format = target.format.name if opened else container_for(final_name)
        width, height = info.layout.width * scale, info.layout.height * scale
        codec, notice = choose_encoder(settings, width, height)
        if notice:
            notify(notice)
        if codec != settings.codec:  # NVENC's p1..p7 and rc options mean nothing to the fallback
            settings = dataclasses.replace(settings, codec=codec, preset=None)
        if not codec_fits(self.container_format, codec):
            raise UsageError(f"{final_name.suffix} cannot hold {codec} video; name the output .mkv or pick another --codec")
        pix_fmt, notice = choose_pix_fmt(codec, settings.pix_fmt, info.layout.format, width, height)
        if notice:
            notify(notice)
        self.codec, self.layout = codec, PlaneLayout(pix_fmt, width, height)
        rgb_source = info.colour.matrix is None  # written as limited-range Y'CbCr
        # Subsampled output is always left-sited (and tagged so): what H.264/HEVC/AV1 players
        # assume when a stream does not say, whatever the input's siting was.
        self.colour = ColourSpec(info.colour.matrix or _matrix_for(height), info.colour.full_range and not rgb_source, self.layout.bits, OUTPUT_CHROMA_LOCATION)
        self.dropped: list[str] = []
        try:
            self.output = target if opened else av.open(str(target), "w", format=self.container_format)
        except av.FFmpegError as exc:
            raise OutputError(f"cannot write {final_name}: {exc}") from None
        try:
            self._add_video(info, settings, width, height)
            if isinstance(source, VideoSource):
                self._copy_streams(source)
                self._copy_metadata(source)
            self._start(settings, final_name)
        except BaseException:
            self.output.close()
            raise
        self.frames_written = 0
        self.packets_retimed = 0  # copied packets whose dts went backwards (damaged input)
        self.packets_dropped = 0  # copied packets the muxer still refused
        self._last_dts: dict = {}

    def _add_video(self, info: VideoInfo, settings: EncoderSettings, width: int, height: int) -> None:
        stream = self.output.add_stream(codec_name=self.codec, rate=info.frame_rate or 25)
        ctx = stream.codec_context
        ctx.width, ctx.height, ctx.pix_fmt = width, height, self.layout.format
        ctx.time_base = info.time_base
        ctx.thread_count = 0
        primaries, trc = DEFAULT_PRIMARIES_TRC[self.colour.matrix]
        tags = info.colour_tags
        self.frame_tags = {
            "colorspace": MATRIX_CODES[self.colour.matrix],
            "color_range": RANGE_FULL if self.colour.full_range else RANGE_LIMITED,
            "color_primaries": tags["color_primaries"] if tags["color_primaries"] not in (0, 2) else primaries,
            "color_trc": tags["color_trc"] if tags["color_trc"] not in (0, 2) else trc,
        }
        for name, value in self.frame_tags.items():
            setattr(ctx, name, value)
        if info.sample_aspect_ratio:
            ctx.sample_aspect_ratio = info.sample_aspect_ratio
        options = settings.options()
        if self.layout.subsampled:
            options["chroma_sample_location"] = self.colour.chroma_location
        ctx.options = options
        if info.rotation:
            stream.set_display_rotation(info.rotation)
        self.video = stream
        self.time_base = info.time_base
        stream.metadata.update({k: v for k, v in info.stream_metadata.items() if k in ("language", "title", "handler_name")})

    def _copy_streams(self, source: VideoSource) -> None:
        self.stream_map: dict = {}
        kept = []
        for stream in source.copied_streams:
            name = stream.codec_context.codec.canonical_name if stream.codec_context else "unknown"
            described = f"{stream.type} stream #{stream.index} ({name})"
            if not codec_fits(self.container_format, name):
                if stream.type == "audio":
                    raise UsageError(f"{self.container_format} cannot hold the input's {described}; name the output .mkv so no audio is lost")
                self.dropped.append(described)
                continue
            out = self.output.add_stream_from_template(stream)
            out.metadata.update(stream.metadata)
            out.disposition = stream.disposition
            self.stream_map[stream] = out
            kept.append(stream)
        source.select_copied(kept)
        for stream in source.container.streams:
            if stream.type == "attachment":
                if self.container_format != "matroska":
                    self.dropped.append(f"attachment {getattr(stream, 'name', stream.index)}")
                    continue
                self.output.add_attachment(stream.name, stream.mimetype, stream.data)
            elif stream.type == "data" and stream.codec_context is not None:  # (mp4 chapter tracks have none; chapters are copied below)
                self.dropped.append(f"data stream #{stream.index}")

    def _start(self, settings: EncoderSettings, final_name: Path) -> None:
        """Open the encoder and write the header now, so a bad encoder option or a codec
        the container refuses is one clear error before any frame is decoded."""
        try:
            self.output.start_encoding()
        except (av.FFmpegError, ValueError) as exc:
            options = ", ".join(f"{k}={v}" for k, v in settings.options().items()) or "no options"
            raise UsageError(
                f"cannot start {self.codec} ({options}) into {final_name.suffix}: {exc}; check --codec, --encoder-preset and the output suffix"
            ) from None

    def _copy_metadata(self, source: VideoSource) -> None:
        meta = {k: v for k, v in source.container.metadata.items() if k.lower() not in MUXER_OWNED_METADATA}
        self.output.metadata.update(meta)
        chapters = source.container.chapters()
        if chapters:
            self.output.set_chapters(chapters)

    def write_frame(self, pts: int, duration: int | None, packed: np.ndarray) -> None:
        frame = self.layout.write(packed)
        frame.pts, frame.time_base = pts, self.time_base
        if duration:
            frame.duration = duration
        for name, value in self.frame_tags.items():
            setattr(frame, name, value)
        self._mux(self.video.encode(frame))
        self.frames_written += 1

    def write_packet(self, packet: av.Packet) -> None:
        """Copy a packet unchanged; a dts that does not move forward (damaged input) is
        nudged one tick on, as ffmpeg does, and a packet the muxer still refuses is
        counted and skipped rather than ending the run."""
        source_stream = packet.stream
        last = self._last_dts.get(source_stream)
        if packet.dts is not None and last is not None and packet.dts <= last:
            packet.dts = last + 1
            if packet.pts is not None and packet.pts < packet.dts:
                packet.pts = packet.dts
            self.packets_retimed += 1
        if packet.dts is not None:
            self._last_dts[source_stream] = packet.dts
        packet.stream = self.stream_map[source_stream]
        try:
            self.output.mux(packet)
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
        self._mux(self.video.encode(None))
        self.output.close()

    def abort(self) -> None:
        try:
            self.output.close()
        except av.FFmpegError:
            pass


def _matrix_for(height: int) -> str:
    return "bt709" if height >= 720 else "bt601"

