"""Writing a clip: how vsr encodes frames into a new video file, in one place.

Every clip vsr and its tests make is written here: the training and evaluation pans
(vsr.clips.encode_h264), `vsr bench --synthetic` (vsr.bench.clips), the bundled demo clip
and the benchmark inputs (vsr.samples.make_clip), the test clips (tests/media.py) and the
live MPEG-TS sender of tests/test_streams.py. Upscaled output is another matter: `vsr
upscale` writes it through vsr.video.io.sink (which also copies the input's other streams,
chapters and timing), and vsr.bench.naive keeps the plain PyAV loop it measures.

    with open_clip(path, width, height, VideoEncoding(options={"crf": "18"}), rate=25) as clip:
        for t, frame in enumerate(frames):  # RGB arrays or av.VideoFrames
            clip.write(frame, pts=t)

A clip holds one video stream, encoded as a `VideoEncoding` says, whose frames sit at the
given pts in `time_base` (default 1/rate), in a file whose format, muxer options and tags a
`ClipContainer` gives, plus whatever streams the caller adds before the first frame: copies of a source's streams (`ClipWriter.copy_stream`, then `mux`) or
its own (`clip.container.add_stream`). Frames of another size or pixel format are
converted by swscale. Leaving the block flushes the encoder and closes the file; with
`atomic=True` the file appears under its name only when complete (vsr.atomic).

No OpenCV and no torch here: the benchmark scripts run this on a GPU machine that lacks
OpenCV.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from .atomic import atomic_path
from .video.io.codecs import container_for

BT709_TAGS = {"colorspace": 1, "color_primaries": 1, "color_trc": 1, "color_range": 1}
"""BT.709 limited range, as FFmpeg numbers it: what an HD clip is."""


@dataclass(frozen=True)
class VideoEncoding:
    """How a clip's video stream is encoded. `options` go to the encoder (`{"crf": "18",
    "preset": "veryfast"}`); `colour` tags (color_primaries, color_trc, colorspace,
    color_range as ints) go on the stream and on every frame; `threads` sets the encoder's
    thread count (None: FFmpeg's choice); `gop` its keyframe interval in frames;
    `interpolation` the swscale filter for frames of another size (None: PyAV's default,
    bilinear)."""

    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    options: Mapping[str, str] = field(default_factory=dict)
    colour: Mapping[str, int] = field(default_factory=dict)
    threads: int | None = None
    gop: int | None = None
    interpolation: str | None = None


@dataclass(frozen=True)
class ClipContainer:
    """The file around a clip's streams: its `format` (None: FFmpeg's guess from the
    suffix), the muxer's `options` (`{"movflags": "+faststart"}`) and its `metadata` tags."""

    format: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)


class ClipWriter:
    """An output file being written: its video stream (`stream`), encoded as `encoding`
    says, and any other streams added before the first frame."""

    def __init__(self, container: av.container.OutputContainer, width: int, height: int, encoding: VideoEncoding, rate: int | Fraction, time_base: Fraction):
        self.container, self.encoding, self.time_base = container, encoding, time_base
        self.width, self.height, self._flushed = width, height, False
        self.stream = stream = container.add_stream(encoding.codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, encoding.pix_fmt
        stream.time_base = stream.codec_context.time_base = time_base
        stream.codec_context.options = dict(encoding.options)
        if encoding.threads is not None:
            stream.codec_context.thread_count = encoding.threads
        if encoding.gop:
            stream.codec_context.gop_size = encoding.gop
        for name, value in encoding.colour.items():
            setattr(stream.codec_context, name, value)

    def copy_stream(self, source: av.stream.Stream) -> av.stream.Stream:
        """A stream that takes `source`'s packets unchanged (`mux`), with its language."""
        stream = self.container.add_stream_from_template(source)
        if source.metadata.get("language"):
            stream.metadata["language"] = source.metadata["language"]
        return stream

    def mux(self, packet: av.Packet, stream: av.stream.Stream) -> None:
        """A packet of a copied stream, written as it is."""
        packet.stream = stream
        self.container.mux(packet)

    def convert(self, frame: np.ndarray | av.VideoFrame) -> av.VideoFrame:
        """`frame` (an RGB24 array or a VideoFrame) at the clip's size and pixel format."""
        if isinstance(frame, np.ndarray):
            frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        if (frame.format.name, frame.width, frame.height) == (self.encoding.pix_fmt, self.width, self.height):
            return frame
        return frame.reformat(width=self.width, height=self.height, format=self.encoding.pix_fmt, interpolation=self.encoding.interpolation)

    def write(self, frame: np.ndarray | av.VideoFrame, pts: int, duration: int | None = None) -> None:
        """Encode `frame` to be shown at `pts` (in `time_base`) for `duration` (None: until the next)."""
        frame = self.convert(frame)
        frame.pts, frame.time_base = pts, self.time_base
        if duration is not None:
            frame.duration = duration
        for name, value in self.encoding.colour.items():
            setattr(frame, name, value)
        self.container.mux(self.stream.encode(frame))

    def flush(self) -> None:
        """Drain the encoder: done when the block ends; call it first to mux more after the video."""
        if not self._flushed:
            self._flushed = True
            self.container.mux(self.stream.encode(None))


@contextmanager
def open_clip(
    path: str | Path | BinaryIO,
    width: int,
    height: int,
    encoding: VideoEncoding = VideoEncoding(),
    *,
    rate: int | Fraction = 25,
    time_base: Fraction | None = None,
    container: ClipContainer = ClipContainer(),
    atomic: bool = False,
) -> Iterator[ClipWriter]:
    """A ClipWriter for a new clip at `path` (or into a writable file object: a pipe, a
    socket), closed (encoder flushed) when the block ends. The file's format is
    `container.format`, else FFmpeg's guess from the suffix (with `atomic`, whose temporary
    name has no suffix: vsr's own list, .mp4 .mov .mkv .webm)."""
    file_format = container.format
    if atomic:
        path = Path(path)
        file_format = file_format or container_for(path)
    with atomic_path(path) if atomic else nullcontext(path) as target:
        target = target if hasattr(target, "write") else str(target)
        with av.open(target, "w", format=file_format, options=dict(container.options)) as output:
            output.metadata.update(container.metadata)
            clip = ClipWriter(output, width, height, encoding, rate, time_base or 1 / Fraction(rate))
            yield clip
            clip.flush()
